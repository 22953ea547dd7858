import { z } from 'zod';
import { FailurePolicySchema } from '@chatfn/contracts';

/** `CreateChatFunctionVersionResource`. */
export const CreateVersionSchema = z.object({ handler_script: z.string() });

/** `CreateChatFunctionResource`. */
export const CreateFunctionSchema = z.object({
  type: z.string().min(1),
  name: z.string().min(1).max(200),
  description: z.string().max(2000).optional(),
  initialize_asynchronously: z.boolean().optional(),
});

export const RollbackSchema = z.object({ version_number: z.number().int().positive() });

export const SettingsSchema = z
  .object({
    timeout_ms: z.number().int().optional(),
    failure_policy: FailurePolicySchema.optional(),
  })
  .refine((s) => s.timeout_ms !== undefined || s.failure_policy !== undefined, { message: 'give timeout_ms or failure_policy' });

export const TestRunSchema = z.object({
  event: z.record(z.unknown()),
  script: z.string().optional(),
});

export const InvocationQuerySchema = z
  .object({
    status: z.enum(['RUNNING', 'SUCCEEDED', 'FAILED']).optional(),
    version_number: z.coerce.number().int().min(0).optional(),
  })
  .passthrough();
