import { z } from 'zod';

export const CreateApplicationSchema = z.object({
  name: z.string().trim().min(1).max(200),
});

const Feature = z.enum(['DISABLED', 'ENABLED']);

/** `ApplicationSettingsResource` as the SDK sends it (`_links` ignored). */
export const ApplicationSettingsSchema = z.object({
  guest_users: Feature,
  user_created_channels: Feature,
});
