/**
 * Hand-written declarations of a handler's `context` and the main methods of the `chatkitty` SDK (v2.106.8) APIs it
 * returns. Responses are axios responses: the resource is in `.data`.
 */
export const CONTEXT_TYPINGS = `
interface SdkResponse<T> { data: T; status: number; headers: Record<string, string>; }
interface PagedResource<K extends string, T> {
  _embedded?: { [key in K]?: T[] };
  page?: { size: number; total_elements: number; total_pages: number; number: number };
}
interface ChatUserResource { id: number; type: 'PERSON' | 'BOT'; name: string; display_name: string; display_picture_url?: string; isGuest: boolean; properties: Record<string, unknown>; presence?: { online: boolean; status: string }; }
interface ChannelResource { id: number; type: 'PUBLIC' | 'PRIVATE' | 'DIRECT'; name?: string; display_name?: string; creator?: ChatUserResource; created_time: string; properties: Record<string, unknown>; }
interface MessageResource { id: number; type: 'TEXT' | 'FILE' | 'SYSTEM_TEXT' | 'SYSTEM_FILE'; body?: string; channel_id: number; user?: ChatUserResource; created_time: string; nested_level: number; properties: Record<string, unknown>; }
interface CreateMessageResource { type: 'TEXT' | 'FILE'; body?: string; user?: { id?: number; username?: string }; properties?: Record<string, unknown>; group_tag?: string; }
interface CreateChannelResource { type: 'PUBLIC' | 'PRIVATE' | 'DIRECT'; name?: string; display_name?: string; creator?: { username: string }; members?: Array<{ username: string } | { id: number }>; properties?: Record<string, unknown>; }

declare class ApplicationApi {
  retrieveAuthenticatedApplication(): Promise<SdkResponse<{ id: number; key: string; properties: Record<string, unknown>; created_time: string }>>;
  retrieveAuthenticatedApplicationSettings(): Promise<SdkResponse<Record<string, unknown>>>;
}
declare class ChannelsApi {
  listChannels(page?: number, size?: number, sort?: string[], type?: 'PUBLIC' | 'PRIVATE' | 'DIRECT'): Promise<SdkResponse<PagedResource<'channels', ChannelResource>>>;
  retrieveChannel(id: number): Promise<SdkResponse<ChannelResource>>;
  createChannel(resource: CreateChannelResource): Promise<SdkResponse<ChannelResource>>;
  updateChannel(id: number, body?: object): Promise<SdkResponse<ChannelResource>>;
  deleteChannel(id: number): Promise<SdkResponse<unknown>>;
  sendChannelMessage(id: number, message: CreateMessageResource): Promise<SdkResponse<MessageResource>>;
  sendChannelEvent(id: number, event: { type: string; properties: Record<string, unknown> }): Promise<SdkResponse<unknown>>;
  listChannelMessages(id: number, size?: number, start?: number, next?: number, relation?: 'SELF' | 'PREVIOUS' | 'NEXT'): Promise<SdkResponse<PagedResource<'messages', MessageResource>>>;
  listChannelMembers(id: number, page?: number, size?: number): Promise<SdkResponse<PagedResource<'users', ChatUserResource>>>;
  addChannelMember(id: number, body: { username: string } | { id: number }): Promise<SdkResponse<ChannelResource>>;
  removeChannelMember(id: number, userId: number): Promise<SdkResponse<ChannelResource>>;
  sendChannelInvite(id: number, invite: { user: { username: string } | { id: number } }): Promise<SdkResponse<unknown>>;
}
declare class MessagesApi {
  listMessages(size?: number, start?: number, next?: number): Promise<SdkResponse<PagedResource<'messages', MessageResource>>>;
  retrieveMessage(id: number): Promise<SdkResponse<MessageResource>>;
  updateMessage(id: number, body: { body?: string; properties?: Record<string, unknown> }): Promise<SdkResponse<MessageResource>>;
  deleteMessage(id: number): Promise<SdkResponse<unknown>>;
  listMessageReadReceipts(id: number, page?: number, size?: number): Promise<SdkResponse<unknown>>;
}
declare class UsersApi {
  listUsers(page?: number, size?: number, sort?: string[], name?: string): Promise<SdkResponse<PagedResource<'users', ChatUserResource>>>;
  retrieveUser(id: number): Promise<SdkResponse<ChatUserResource>>;
  createUser(user: { name: string; display_name?: string; is_guest: boolean; properties?: Record<string, unknown> }): Promise<SdkResponse<ChatUserResource>>;
  updateUser(id: number, body?: object): Promise<SdkResponse<ChatUserResource>>;
  deleteUser(id: number): Promise<SdkResponse<unknown>>;
  listUserChannels(id: number, page?: number, size?: number): Promise<SdkResponse<PagedResource<'channels', ChannelResource>>>;
  sendUserNotification(id: number, notification: { title: string; body: string; channel?: { id: number }; data?: Record<string, unknown> }): Promise<SdkResponse<unknown>>;
}
declare class UserSessionsApi {
  listUserSessions(page?: number, size?: number, sort?: string[], state?: 'ACTIVE' | 'ENDED'): Promise<SdkResponse<PagedResource<'sessions', { id: number; user: ChatUserResource; state: string; created_time: string }>>>;
}
declare class ChatKittyClient {
  readonly ApplicationApi: ApplicationApi;
  readonly ChannelsApi: ChannelsApi;
  readonly MessagesApi: MessagesApi;
  readonly UsersApi: UsersApi;
  readonly UserSessionsApi: UserSessionsApi;
  readonly ChatSessionsApi: unknown;
  readonly ThreadsApi: unknown;
}

/** The second argument of handleEvent: SDK APIs already authenticated for this application. */
interface ChatFunctionContext {
  /** The full chatkitty SDK client. */
  readonly ChatKitty: ChatKittyClient;
  getApplicationApi(): ApplicationApi;
  getChannelApi(): ChannelsApi;
  getMessageApi(): MessagesApi;
  getUserApi(): UsersApi;
  getUserSessionApi(): UserSessionsApi;
  getChatSessionApi(): unknown;
  getThreadApi(): unknown;
}

declare var process: { env: Record<string, string | undefined> & {
  CHATKITTY_CLIENT_ID: string; CHATKITTY_CLIENT_SECRET: string; CHATKITTY_APPLICATION_ID: string;
  CHATKITTY_CHAT_SERVICE_BASE_URL: string; CHATKITTY_AUTHORIZATION_SERVICE_BASE_URL: string;
} };
declare function require(name: string): any;
declare var module: { exports: any };
`;
