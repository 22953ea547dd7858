import { z } from 'zod';

const props = z.record(z.unknown());

/** The SDK types `members` as a `Set`, which `JSON.stringify` turns into `{}`: read that as "no members". */
const refList = (schema: z.ZodTypeAny) =>
  z.preprocess((v) => (v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0 ? undefined : v), schema);

/** `ChatUserIdReference | ChatUserUsernameReference`. */
export const UserRefSchema = z.union([
  z.object({ id: z.number().int().positive() }).strict(),
  z.object({ username: z.string().min(1).max(256) }).strict(),
], { errorMap: () => ({ message: 'must be a user reference: {"id": <number>} or {"username": <string>}' }) });
export type UserRef = z.infer<typeof UserRefSchema>;

const groupChannel = {
  creator: UserRefSchema.optional(),
  members: refList(z.array(UserRefSchema).max(1000).optional()),
  properties: props.optional(),
  name: z.string().min(1).max(256).optional(),
  display_name: z.string().min(1).max(256).optional(),
};

/** `CreateChannelResource`, discriminated by `type` (`CreateDirectChannelResource` / `CreatePublicChannelResource` / ...). */
export const CreateChannelSchema = z.discriminatedUnion(
  'type',
  [
    z.object({
      type: z.literal('DIRECT'),
      creator: UserRefSchema.optional(),
      members: refList(z.array(UserRefSchema).min(1).max(100)),
      properties: props.optional(),
    }),
    z.object({ type: z.literal('PUBLIC'), ...groupChannel }),
    z.object({ type: z.literal('PRIVATE'), ...groupChannel }),
  ],
  { errorMap: (issue, ctx) => (issue.code === 'invalid_union_discriminator' ? { message: 'must be one of DIRECT, PUBLIC, PRIVATE' } : { message: ctx.defaultError }) },
);
export type CreateChannelInput = z.infer<typeof CreateChannelSchema>;

/** `PATCH /v1/channels/{id}`: merge-patch of `display_name` and `properties`. */
export const UpdateChannelSchema = z
  .object({ display_name: z.string().min(1).max(256).optional(), properties: props.optional() })
  .strict();

export const ListChannelsQuerySchema = z.object({
  type: z.enum(['DIRECT', 'PUBLIC', 'PRIVATE']).optional(),
  members: z.union([z.string(), z.array(z.string())]).optional(),
  startTime: z.string().datetime({ offset: true }).optional(),
  endTime: z.string().datetime({ offset: true }).optional(),
  properties: z.string().optional(),
});

export const MemberBodySchema = UserRefSchema;
export const InviteSchema = z.object({ user: UserRefSchema });
export const ChannelEventSchema = z.object({ type: z.string().min(1).max(256), properties: props.default({}) });
export const KeystrokesSchema = z.object({ keys: z.string().max(10_000), user: UserRefSchema });

export const IdParamSchema = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);
