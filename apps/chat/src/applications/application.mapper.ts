import { HalLinks, selfLinks } from '../shared/hal';
import { ApplicationEntity, FeatureSetting } from './application.entity';

/** The SDK's `ApplicationResource`. */
export interface ApplicationResource {
  id: number;
  created_time: string;
  key: string;
  properties: Record<string, unknown>;
  _links: HalLinks;
}

/** The SDK's `ApplicationSettingsResource`. */
export interface ApplicationSettingsResource {
  guest_users: FeatureSetting;
  user_created_channels: FeatureSetting;
  _links: HalLinks;
}

export function toApplicationResource(app: ApplicationEntity, base: string): ApplicationResource {
  return {
    id: app.id,
    created_time: app.createdTime.toISOString(),
    key: app.apiKey,
    properties: { name: app.name, ...app.properties } as Record<string, unknown>,
    _links: selfLinks(base, '/application', { settings: '/application/settings' }),
  };
}

export function toApplicationSettingsResource(app: ApplicationEntity, base: string): ApplicationSettingsResource {
  return {
    guest_users: app.guestUsers,
    user_created_channels: app.userCreatedChannels,
    _links: selfLinks(base, '/application/settings'),
  };
}

/** The admin API's view of an application (no secret: it is only shown at creation). */
export function toAdminApplication(app: ApplicationEntity) {
  return { id: app.id, name: app.name, client_id: app.clientId, api_key: app.apiKey, created_time: app.createdTime.toISOString() };
}
