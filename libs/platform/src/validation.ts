import { z } from 'zod';
import { ApiException } from './api-error';

/** Parses request input with a zod schema; the first problem becomes a 400 ApiError naming the field. */
export function parseInput<S extends z.ZodTypeAny>(schema: S, input: unknown, where = 'body'): z.infer<S> {
  const r = schema.safeParse(input ?? (where === 'body' ? undefined : {}));
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => ({
    field: i.path.length ? i.path.join('.') : where,
    message: i.message,
  }));
  const first = issues[0];
  throw ApiException.badRequest(
    input === undefined && where === 'body' ? 'Request body is required' : `${first.field}: ${first.message}`,
    { errors: issues },
  );
}

/** Page paging parameters shared by HAL list endpoints (`page`, `size`, `sort`). */
export const PageQuerySchema = z
  .object({
    // Bounded so that page × size stays an exact integer and a valid OFFSET (`page=1e99` is an integer too).
    page: z.coerce.number().int().min(0).max(10_000_000).default(0),
    size: z.coerce.number().int().min(1).max(1000).default(25),
    sort: z.union([z.string(), z.array(z.string())]).optional(),
  })
  .passthrough();
export type PageQuery = z.infer<typeof PageQuerySchema>;
