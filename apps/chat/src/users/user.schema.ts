import { z } from 'zod';
import { PageQuerySchema } from '@chatfn/platform';

const Properties = z.record(z.unknown());
const Name = z.string().trim().min(1).max(256);

/** `CreatePersonChatUserResource`. */
export const CreateUserSchema = z
  .object({
    name: Name,
    display_name: z.string().trim().min(1).max(256),
    is_guest: z.boolean().default(false),
    properties: Properties.default({}),
  })
  .strict();
export type CreateUser = z.infer<typeof CreateUserSchema>;

/** Read-only fields a client may echo back in a merge-patch; they are ignored. */
export const READ_ONLY_USER_FIELDS = ['id', 'type', '_links', 'presence', 'call_status', 'isGuest', 'display_picture_url'];

/** JSON merge patch (RFC 7396) of a user: `properties` merges recursively, `null` removes a key. */
export const UpdateUserSchema = z
  .object({
    name: Name.optional(),
    display_name: z.string().trim().min(1).max(256).optional(),
    is_guest: z.boolean().optional(),
    properties: Properties.nullable().optional(),
  })
  .strict();
export type UpdateUser = z.infer<typeof UpdateUserSchema>;

type SortableColumn = 'id' | 'name' | 'display_name' | 'created_time';
export const USER_SORT_COLUMNS: Record<SortableColumn, string> = {
  id: 'u.id',
  name: 'u.name',
  display_name: 'u.display_name',
  created_time: 'u.created_time',
};

export const ListUsersQuerySchema = PageQuerySchema.extend({
  name: z.string().min(1).optional(),
  unread: z.enum(['true', 'false']).optional(),
  /** JSON object the users' properties must contain, e.g. `{"team":"red"}`. */
  properties: z
    .string()
    .transform((s, ctx) => {
      try {
        const v: unknown = JSON.parse(s);
        if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
      } catch {
        /* reported below */
      }
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'must be a JSON object, e.g. {"team":"red"}' });
      return z.NEVER;
    })
    .optional(),
});

/** `sort=name,asc` / `sort=id,desc` (repeatable) → ORDER BY terms; unknown fields are a 400. */
export function parseSort(sort: string | string[] | undefined, columns: Record<string, string>): { column: string; dir: 'ASC' | 'DESC' }[] {
  const items = sort === undefined ? [] : Array.isArray(sort) ? sort : [sort];
  const out: { column: string; dir: 'ASC' | 'DESC' }[] = [];
  for (const item of items) {
    const [field, dirText] = item.split(',').map((s) => s.trim());
    const column = columns[field] ?? columns[field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)];
    if (!column) throw new SortError(`sort: unknown field ${JSON.stringify(field)}; use one of ${Object.keys(columns).join(', ')}`);
    const dir = (dirText ?? 'asc').toUpperCase();
    if (dir !== 'ASC' && dir !== 'DESC') throw new SortError(`sort: direction must be asc or desc, got ${JSON.stringify(dirText)}`);
    out.push({ column, dir });
  }
  return out;
}
export class SortError extends Error {}

/** `SecretResource`: any JSON value. */
export const SecretSchema = z.object({ secret: z.unknown() }).strict();

/** `CreateExternalFileProperties`. */
export const ExternalFileSchema = z.object({
  url: z.string().url(),
  name: z.string().min(1),
  content_type: z.string().min(1),
  size: z.number().int().min(0),
});

/** RFC 7396 merge of `patch` into `target`. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!patch || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const result: Record<string, unknown> =
    target && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    if (v === null) delete result[k];
    else result[k] = mergePatch(result[k], v);
  }
  return result;
}
