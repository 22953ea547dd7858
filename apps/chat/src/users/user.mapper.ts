import { HalLinks, selfLinks } from '../shared/hal';
import { UserEntity } from './user.entity';

/** The SDK's `ChatUserProperties` (a user embedded in another resource: channel creator, message sender, ...). */
export interface ChatUserProperties {
  id: number;
  type: 'PERSON' | 'BOT';
  name: string;
  display_name: string;
  display_picture_url: string;
  isGuest: boolean;
  presence: { online: boolean; status: string };
  call_status?: 'AVAILABLE' | 'IN_CALL';
  properties: Record<string, unknown>;
}

/** The SDK's `ChatUserResource`: `ChatUserProperties` + `_links`. */
export interface ChatUserResource extends ChatUserProperties {
  _links: HalLinks;
}

/** Display picture shown for users without one (ChatKitty returns a generated avatar URL, never null). */
export function defaultDisplayPictureUrl(user: Pick<UserEntity, 'name'>): string {
  return `https://api.dicebear.com/7.x/initials/svg?seed=${encodeURIComponent(user.name)}`;
}

export function toChatUserProperties(user: UserEntity): ChatUserProperties {
  const p: ChatUserProperties = {
    id: user.id,
    type: user.type,
    name: user.name,
    display_name: user.displayName,
    display_picture_url: user.displayPictureUrl ?? defaultDisplayPictureUrl(user),
    isGuest: user.isGuest,
    presence: { online: user.presenceOnline, status: user.presenceStatus },
    properties: user.properties ?? {},
  };
  if (user.callStatus) p.call_status = user.callStatus;
  return p;
}

/** `base` is the API base URL (`ApiLinks.base`, e.g. `http://127.0.0.1:8080/v1`). */
export function toChatUserResource(user: UserEntity, base: string): ChatUserResource {
  return {
    ...toChatUserProperties(user),
    _links: selfLinks(base, `/users/${user.id}`, {
      channels: `/users/${user.id}/channels`,
      notifications: `/users/${user.id}/notifications`,
    }),
  };
}
