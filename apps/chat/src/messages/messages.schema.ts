import { z } from 'zod';
import { UserRefSchema } from '../channels/channels.schema';

const props = z.record(z.unknown());
const common = {
  group_tag: z.string().max(256).optional(),
  properties: props.optional(),
  /** Omitted: a SYSTEM_* message; set: sent on this user's behalf. */
  user: UserRefSchema.optional(),
};

/** `CreateTextMessageResource` / `CreateFileMessageResource` (JSON), discriminated by `type`. */
export const CreateMessageSchema = z.discriminatedUnion(
  'type',
  [
    z.object({ type: z.literal('TEXT'), body: z.string().min(1).max(100_000), ...common }),
    z.object({
      type: z.literal('FILE'),
      file: z.object({
        url: z.string().url(),
        name: z.string().min(1).max(1024),
        content_type: z.string().min(1).max(256),
        size: z.number().int().min(0),
      }),
      ...common,
    }),
  ],
  { errorMap: (issue, ctx) => (issue.code === 'invalid_union_discriminator' ? { message: 'must be one of TEXT, FILE' } : { message: ctx.defaultError }) },
);
export type CreateMessageInput = z.infer<typeof CreateMessageSchema>;

/** Multipart form fields accompanying an uploaded `file`. */
export const MultipartMessageSchema = z.object({
  groupTag: z.string().max(256).optional(),
  group_tag: z.string().max(256).optional(),
  username: z.string().min(1).optional(),
  properties: z
    .string()
    .optional()
    .transform((s, ctx) => {
      if (s === undefined || s === '') return undefined;
      try {
        const v = JSON.parse(s);
        if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
      } catch {
        /* reported below */
      }
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'must be a JSON object' });
      return z.NEVER;
    }),
});

export const UpdateMessageSchema = z.object({ body: z.string().min(1).max(100_000).optional(), properties: props.optional() }).strict();

const int = z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
export const CursorQuerySchema = z.object({
  size: z.coerce.number().int().min(1).max(1000).default(25),
  start: int.optional(),
  next: int.optional(),
  relation: z.enum(['SELF', 'PREVIOUS', 'NEXT']).optional(),
});
export type CursorQuery = z.infer<typeof CursorQuerySchema>;

export const MessageFilterSchema = z.object({ username: z.string().min(1).optional(), query: z.string().min(1).optional() });
export const UnreadFilterSchema = z.object({ unread: z.enum(['true', 'false']).optional() });
