import { z } from 'zod';

const props = z.record(z.unknown());

/** The SDK types `members` as a `Set`, which `JSON.stringify` turns into `{}`: read that as "no members". */
const refList = (schema: z.ZodTypeAny) =>
  z.preprocess((v) => (v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0 ? undefined : v), schema);

const UserIdRefSchema = z.object({ id: z.number().int().positive() }).strict();
const UsernameRefSchema = z.object({ username: z.string().min(1).max(256) }).strict();
const UserRefUnion = z.union([UserIdRefSchema, UsernameRefSchema], {
  errorMap: () => ({ message: 'must be a user reference: {"id": <number>} or {"username": <string>}' }),
});
export type UserRef = z.infer<typeof UserRefUnion>;

/**
 * `ChatUserIdReference | ChatUserUsernameReference`. A reference with only an `id` or only a `username` is checked
 * against that form alone: the union would first fail the `id` form for a username, and building that failure costs
 * ten times the check (this is on the send-message path). Anything else, and every invalid reference, goes through
 * the union, so its result and its errors are the union's.
 */
class UserRefType extends z.ZodType<UserRef, z.ZodTypeDef, unknown> {
  _parse(input: z.ParseInput): z.ParseReturnType<UserRef> {
    const value: unknown = input.data;
    const keys = value !== null && typeof value === 'object' ? Object.keys(value) : [];
    const one = keys.length === 1 ? (keys[0] === 'username' ? UsernameRefSchema : keys[0] === 'id' ? UserIdRefSchema : undefined) : undefined;
    const fast = one?.safeParse(value);
    return fast?.success ? z.OK(fast.data) : UserRefUnion._parse(input);
  }
}
export const UserRefSchema = new UserRefType({});

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
