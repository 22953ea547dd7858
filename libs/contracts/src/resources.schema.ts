import { z } from 'zod';

/**
 * Platform API resource shapes as they travel inside chat events. Field names are exactly the `chatkitty@2.106.8`
 * SDK's; the schemas check the fields functions rely on and let the rest through unchanged.
 */
export const ChatUserSchema = z
  .object({
    id: z.number().int(),
    type: z.enum(['PERSON', 'BOT']),
    name: z.string(),
    displayName: z.string(),
    displayPictureUrl: z.string().optional(),
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
    createdTime: z.string(),
    properties: z.record(z.unknown()),
  })
  .passthrough();
export type Channel = z.infer<typeof ChannelSchema>;

export const MessageSchema = z
  .object({
    id: z.number().int(),
    type: z.enum(['TEXT', 'FILE', 'SYSTEM_TEXT', 'SYSTEM_FILE']),
    channelId: z.number().int(),
    createdTime: z.string(),
    nestedLevel: z.number().int(),
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
    createdTime: z.string(),
  })
  .passthrough();

export const ReadReceiptSchema = z.object({ user: z.record(z.unknown()), createdTime: z.string() }).passthrough();

export const ChannelGenericEventSchema = z
  .object({ type: z.string(), properties: z.record(z.unknown()), user: z.record(z.unknown()).optional() })
  .passthrough();
