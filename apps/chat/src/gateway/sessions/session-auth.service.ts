import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { DataSource, Repository } from 'typeorm';
import { ExecutionReply } from '@chatfn/contracts';
import { ChatfnConfig } from '@chatfn/config';
import { FunctionDirectory } from '@chatfn/function-directory';
import { MessageBus, MicroBatcher } from '@chatfn/messaging';
import { ChatEventRecorder } from '../../shared/chat-event.recorder';
import { ApplicationEntity } from '../../applications/application.entity';
import { UserEntity } from '../../users/user.entity';
import { toChatUserProperties } from '../../users/user.mapper';
import { SessionContext, StompXError } from '../stomp/stomp-connection';
import { GatewaySessionsService } from './gateway-sessions.service';

export const START_SESSION_TRIGGER = 'user.attempted.start_session';
export const GATEWAY_FUNCTIONS = Symbol('GatewayFunctionDirectory');
/** A reconnect may resume its session without re-authorising for this long after the socket dropped. */
const RESUME_WINDOW_MS = 5 * 60_000;

const denied = (message: string) => new StompXError('AccessDeniedError', message);

/** Decodes `StompX-Auth-Params`: Base64 of the JSON of the client's `authParams` (must be an object). */
export function decodeAuthParams(header: string | undefined): Record<string, unknown> {
  if (header === undefined || header === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(header, 'base64').toString('utf8'));
  } catch {
    throw denied('StompX-Auth-Params: not Base64-encoded JSON');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw denied('StompX-Auth-Params: must encode a JSON object');
  return parsed as Record<string, unknown>;
}

/**
 * Authorises a STOMP CONNECT as ChatKitty does: the API key names the application; a reconnect carrying the resume
 * token of a recent session of the same user resumes it; otherwise the application's enabled
 * `user.attempted.start_session` function runs through the blocking request-reply path (a throw denies with the
 * function's message; a timeout or no executor applies the function's failure policy, `deny` by default) and an
 * approved user that does not exist yet is created; with no enabled function the application's guest-user setting
 * decides (ENABLED: the user, or a new guest user, may start a session; DISABLED: denied).
 */
@Injectable()
export class SessionAuthService {
  private readonly logger = new Logger('SessionAuth');
  /** Users first seen by concurrent connects are created together: one transaction per batch (group commit). */
  private readonly newUsers = new MicroBatcher<NewUser, Pick<UserEntity, 'id' | 'name'>>((items) => this.createUsers(items), {
    maxBatch: 500,
    maxConcurrent: 2,
  });

  constructor(
    @InjectRepository(ApplicationEntity) private readonly apps: Repository<ApplicationEntity>,
    private readonly db: DataSource,
    private readonly recorder: ChatEventRecorder,
    private readonly sessions: GatewaySessionsService,
    private readonly bus: MessageBus,
    private readonly config: ChatfnConfig,
    @Inject(GATEWAY_FUNCTIONS) private readonly functions: FunctionDirectory,
  ) {}

  async connect(apiKey: string, headers: Record<string, string>): Promise<SessionContext> {
    const username = (headers['StompX-User'] ?? '').trim();
    // The application and the user in one round trip (a connect storm pays one read, not two).
    const found = apiKey ? await this.lookup(apiKey, username) : undefined;
    if (!found) throw denied('Invalid API key');
    const app = found;
    if (!username || username.length > 256) throw denied('StompX-User: a username (1 to 256 characters) is required');
    const userAgent = headers['StompX-User-Agent'];

    const resumeToken = headers['StompX-Auth-Session-ID'];
    if (resumeToken && resumeToken !== 'undefined') {
      const resumed = await this.sessions.resume(app.id, username, resumeToken, RESUME_WINDOW_MS);
      if (resumed) return { applicationId: app.id, userId: resumed.userId, username, userSessionId: resumed.id, resumeToken };
    }

    const authParams = decodeAuthParams(headers['StompX-Auth-Params']);
    const approved = await this.runStartSessionFunction(app.id, username, authParams);
    if (!approved && app.guestUsers !== 'ENABLED') {
      throw denied('Guest users are disabled for this application and no user.attempted.start_session function is enabled');
    }
    // Read before the function ran; a user it created meanwhile is found by createUser's conflict path.
    const user = found.user ?? (await this.createUser(app.id, username, !approved));
    const session = await this.sessions.start(app.id, user.id, userAgent);
    return { applicationId: app.id, userId: user.id, username: user.name, userSessionId: session.id, resumeToken: session.resumeToken };
  }

  private async lookup(apiKey: string, username: string): Promise<{ id: number; guestUsers: string; user?: { id: number; name: string } } | undefined> {
    const rows: { id: string; guest_users: string; user_id: string | null; user_name: string | null }[] = await this.apps.query(
      `SELECT a.id, a.guest_users, u.id AS user_id, u.name AS user_name
         FROM applications a LEFT JOIN users u ON u.application_id = a.id AND u.name = $2 AND u.deleted_time IS NULL
        WHERE a.api_key = $1`,
      [apiKey, username],
    );
    const r = rows[0];
    if (!r) return undefined;
    return { id: Number(r.id), guestUsers: r.guest_users, user: r.user_id === null ? undefined : { id: Number(r.user_id), name: String(r.user_name) } };
  }

  /** true: the function approved; false: no enabled function. Throws `AccessDeniedError` when it denies. */
  private async runStartSessionFunction(applicationId: number, username: string, authParams: Record<string, unknown>): Promise<boolean> {
    const fn = this.functions.findRunnable(applicationId, START_SESSION_TRIGGER);
    if (!fn) return false;
    const deadlineMs = fn.timeoutMs > 0 ? fn.timeoutMs : this.config.env.CHATFN_BLOCKING_DEADLINE_MS;
    const policy = fn.failurePolicy ?? 'deny';
    const onFailure = (reason: string) => {
      this.logger.warn(`start_session function ${fn.id} of application ${applicationId} did not answer (${reason}): policy ${policy}`);
      if (policy === 'allow') return true;
      throw denied(`The session could not be authorised (${reason})`);
    };
    let reply: ExecutionReply;
    try {
      reply = await this.bus.request(
        'executor.execution.requested.v1',
        { applicationId, triggerType: START_SESSION_TRIGGER, event: { username, authParams }, deadlineMs, functionId: fn.id, depth: 0 },
        { deadlineMs },
      );
    } catch (e) {
      if ((e as Error)?.name === 'MessagingError') return onFailure((e as Error).message);
      throw e;
    }
    if (reply.outcome === 'no-function') return false;
    if (reply.error) {
      if (reply.timedOut) return onFailure(reply.error.message);
      throw denied(reply.error.message || 'Access denied by the user.attempted.start_session function');
    }
    return true;
  }

  private createUser(applicationId: number, username: string, guest: boolean): Promise<Pick<UserEntity, 'id' | 'name'>> {
    return this.newUsers.add({ applicationId, name: username, guest });
  }

  /**
   * What `UserCommandsService.create` does for each (a PERSON user named and displayed as the username, no
   * properties, and its `user.created` event), for a batch in one transaction. A user that exists by now (another
   * session, instance or function created it) is taken as it is, without an event.
   */
  private async createUsers(items: NewUser[]): Promise<Pick<UserEntity, 'id' | 'name'>[]> {
    return this.db.transaction(async (tx) => {
      const inserted: Record<string, unknown>[] = await tx.query(
        `INSERT INTO users (application_id, name, display_name, is_guest, type, properties)
         SELECT a, n, n, g, 'PERSON', '{}'::jsonb FROM unnest($1::bigint[], $2::text[], $3::boolean[]) AS x(a, n, g)
         ON CONFLICT (application_id, name) WHERE deleted_time IS NULL DO NOTHING
         RETURNING *`,
        [items.map((i) => i.applicationId), items.map((i) => i.name), items.map((i) => i.guest)],
      );
      const key = (app: unknown, name: unknown) => `${String(app)}\u0000${String(name)}`;
      const users = new Map<string, UserEntity>();
      for (const r of inserted) users.set(key(r.application_id, r.name), userEntity(r));
      const missing = items.filter((i) => !users.has(key(i.applicationId, i.name)));
      if (missing.length) {
        const existing: Record<string, unknown>[] = await tx.query(
          `SELECT u.* FROM users u JOIN unnest($1::bigint[], $2::text[]) AS x(a, n) ON u.application_id = x.a AND u.name = x.n
            WHERE u.deleted_time IS NULL`,
          [missing.map((i) => i.applicationId), missing.map((i) => i.name)],
        );
        for (const r of existing) users.set(key(r.application_id, r.name), userEntity(r));
      }
      if (inserted.length) {
        await this.recorder.recordAll(
          tx,
          inserted.map((r) => {
            const user = userEntity(r);
            return { applicationId: user.applicationId, type: 'user.created', userId: user.id, depth: 0, data: { user: toChatUserProperties(user) } };
          }),
        );
      }
      return items.map((i) => {
        const user = users.get(key(i.applicationId, i.name));
        if (!user) throw new Error(`user ${i.name} could not be created`);
        return user;
      });
    });
  }
}

interface NewUser {
  applicationId: number;
  name: string;
  guest: boolean;
}

/** A `users` row as the entity (what `toChatUserProperties` maps). */
function userEntity(r: Record<string, unknown>): UserEntity {
  return Object.assign(new UserEntity(), {
    id: Number(r.id),
    applicationId: Number(r.application_id),
    name: String(r.name),
    displayName: String(r.display_name),
    displayPictureUrl: (r.display_picture_url as string | null) ?? null,
    isGuest: Boolean(r.is_guest),
    type: r.type,
    properties: (r.properties as Record<string, unknown>) ?? {},
    presenceOnline: Boolean(r.presence_online),
    presenceStatus: String(r.presence_status),
    callStatus: (r.call_status as UserEntity['callStatus']) ?? null,
    createdTime: r.created_time as Date,
    deletedTime: null,
  });
}
