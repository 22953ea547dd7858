import { z } from 'zod';
import {
  ChannelGenericEventSchema,
  ChannelSchema,
  ChatUserSchema,
  MessageSchema,
  NotificationSchema,
  ReadReceiptSchema,
} from './resources.schema';

/**
 * The trigger-type catalogue: ChatKitty's eight trigger types plus chatfn's blocking
 * `user.attempted.send_message`. Payloads are exactly what a ChatKitty function receives as `event`.
 */
export const TRIGGERS = {
  'user.attempted.start_session': {
    name: 'User Attempted Start Session',
    blocking: true,
    payload: z.object({ username: z.string(), authParams: z.record(z.unknown()) }).passthrough(),
  },
  'user.attempted.send_message': {
    name: 'User Attempted Send Message',
    blocking: true,
    payload: z
      .object({
        user: ChatUserSchema.optional(),
        channel: ChannelSchema,
        message: z
          .object({
            type: z.enum(['TEXT', 'FILE']),
            body: z.string().optional(),
            properties: z.record(z.unknown()).optional(),
          })
          .passthrough(),
      })
      .passthrough(),
  },
  'user.received.notification': {
    name: 'User Received Notification',
    blocking: false,
    payload: z
      .object({ user: ChatUserSchema, notification: NotificationSchema, userHasActiveSession: z.boolean() })
      .passthrough(),
  },
  'user.sent.message': {
    name: 'User Sent Message',
    blocking: false,
    payload: z.object({ user: ChatUserSchema, channel: ChannelSchema, message: MessageSchema }).passthrough(),
  },
  'user.started.chat_session': {
    name: 'User Started Chat Session',
    blocking: false,
    payload: z
      .object({
        user: ChatUserSchema,
        channel: ChannelSchema,
        channelUnread: z.boolean(),
        channelMessagesCount: z.number().int(),
      })
      .passthrough(),
  },
  'user.read.message': {
    name: 'User Read Message',
    blocking: false,
    payload: z.object({ user: ChatUserSchema, message: MessageSchema, receipt: ReadReceiptSchema }).passthrough(),
  },
  'user.received.channel_invite': {
    name: 'User Received Channel Invite',
    blocking: false,
    payload: z
      .object({ user: ChatUserSchema, channel: ChannelSchema, invitingUser: ChatUserSchema.optional() })
      .passthrough(),
  },
  'user.triggered.event': {
    name: 'User Triggered Event',
    blocking: false,
    payload: z
      .object({ user: ChatUserSchema, channel: ChannelSchema, event: ChannelGenericEventSchema })
      .passthrough(),
  },
  'system.triggered.event': {
    name: 'System Triggered Event',
    blocking: false,
    payload: z.object({ channel: ChannelSchema, event: ChannelGenericEventSchema }).passthrough(),
  },
} as const;

export type TriggerType = keyof typeof TRIGGERS;
export const TRIGGER_TYPES = Object.keys(TRIGGERS) as TriggerType[];
export type TriggerPayload<T extends TriggerType> = z.infer<(typeof TRIGGERS)[T]['payload']>;

export function isTriggerType(value: string): value is TriggerType {
  return Object.prototype.hasOwnProperty.call(TRIGGERS, value);
}
export function isBlockingTrigger(value: TriggerType): boolean {
  return TRIGGERS[value].blocking;
}
