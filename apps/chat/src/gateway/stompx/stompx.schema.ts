import { z } from 'zod';
import { findUnstorable } from '@chatfn/platform';
import { StompXError } from '../stomp/stomp-connection';

const props = z.record(z.unknown());
const ref = z.union([z.object({ id: z.number().int().positive() }).passthrough(), z.object({ username: z.string().min(1).max(256) }).passthrough()]);

/** `createChannel` body: the SDK sends the request verbatim (members as `[{id}|{username}]`). */
export const CreateChannelActionSchema = z.object({
  type: z.enum(['PUBLIC', 'PRIVATE', 'DIRECT']),
  name: z.string().min(1).max(256).optional(),
  displayName: z.string().min(1).max(256).optional(),
  members: z.array(ref).max(1000).optional(),
  properties: props.optional(),
});

/** `sendMessage` body: `{type:'TEXT', body}` or `{type:'FILE', file:{url,name,contentType,size}}` (external files). */
export const SendMessageActionSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('TEXT'), body: z.string().min(1).max(100_000), groupTag: z.string().max(256).optional(), properties: props.optional() }),
  z.object({
    type: z.literal('FILE'),
    file: z.object({ url: z.string().url(), name: z.string().min(1).max(1024), contentType: z.string().min(1).max(256), size: z.number().int().min(0) }),
    groupTag: z.string().max(256).optional(),
    properties: props.optional(),
  }),
]);

export const TriggerEventActionSchema = z.object({ type: z.string().min(1).max(256), properties: props.default({}) });
export const KeystrokesActionSchema = z.object({ keys: z.string().max(10_000) });
export const EditMessageActionSchema = z.object({ body: z.string().min(1).max(100_000) });

/** `updateCurrentUser` sends the whole CurrentUser; only `displayName` and `properties` are writable. */
export const UpdateCurrentUserActionSchema = z
  .object({ displayName: z.string().trim().min(1).max(256).optional(), properties: props.optional() })
  .passthrough();

/** Parses an action body; a failure becomes an `InvalidRequestError` naming the field. */
export function parseBody<T extends z.ZodTypeAny>(schema: T, body: unknown): z.infer<T> {
  // As over HTTP (`rejectUnstorableText`): text PostgreSQL cannot store is the client's error, named here.
  const unstorableAt = findUnstorable(body);
  if (unstorableAt !== undefined) {
    throw new StompXError('InvalidRequestError', `${unstorableAt}: must not contain NUL characters or unpaired UTF-16 surrogates`);
  }
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const field = issue.path.join('.') || 'body';
  throw new StompXError('InvalidRequestError', `${field}: ${issue.message}`);
}
