import { z } from 'zod';

/**
 * Platform API resource shapes as they travel inside chat events. Field names are exactly the `chatkitty@2.106.8`
 * SDK's wire format (snake_case, with the SDK's own exceptions such as `isGuest`), so a function receives the same
 * JSON the Platform API returns; the schemas check the fields functions rely on and let the rest through unchanged.
 * The trigger payloads' own keys (`user`, `channel`, `userHasActiveSession`, ...) are camelCase as in ChatKitty.
 */
export const ChatUserSchema = z
  .object({
    id: z.number().int(),
    type: z.enum(['PERSON', 'BOT']),
    name: z.string(),
    display_name: z.string(),
    display_picture_url: z.string().optional(),
    isGuest: z.boolean(),
    presence: z.object({ online: z.boolean(), status: z.string() }).passthrough().optional(),
    properties: z.record(z.unknown()),
  })
  .passthrough();
export type ChatUser = z.infer<typeof ChatUserSchema>;

export const ChannelSchema = z
  .object({
    id: z.number().int(),
    type: z.enum(['PUBLIC', 'PRIVATE', 'DIRECT']),
    created_time: z.string(),
    properties: z.record(z.unknown()),
  })
  .passthrough();
export type Channel = z.infer<typeof ChannelSchema>;

export const MessageSchema = z
  .object({
    id: z.number().int(),
    type: z.enum(['TEXT', 'FILE', 'SYSTEM_TEXT', 'SYSTEM_FILE']),
    channel_id: z.number().int(),
    created_time: z.string(),
    nested_level: z.number().int(),
    properties: z.record(z.unknown()),
    body: z.string().optional(),
  })
  .passthrough();
export type Message = z.infer<typeof MessageSchema>;

export const NotificationSchema = z
  .object({
    id: z.number().int(),
    title: z.string(),
    body: z.string(),
    data: z.object({ type: z.string() }).passthrough(),
    muted: z.boolean(),
    created_time: z.string(),
  })
  .passthrough();

export const ReadReceiptSchema = z.object({ user: z.record(z.unknown()), created_time: z.string() }).passthrough();

export const ChannelGenericEventSchema = z
  .object({ type: z.string(), properties: z.record(z.unknown()), user: z.record(z.unknown()).optional() })
  .passthrough();
