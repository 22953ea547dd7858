import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { ExecutionReply } from '@chatfn/contracts';
import { ChatfnConfig } from '@chatfn/config';
import { FunctionDirectory } from '@chatfn/function-directory';
import { MessageBus } from '@chatfn/messaging';
import { ApplicationEntity } from '../../applications/application.entity';
import { UserCommandsService } from '../../users/user-commands.service';
import { UserEntity } from '../../users/user.entity';
import { UsersService } from '../../users/users.service';
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

  constructor(
    @InjectRepository(ApplicationEntity) private readonly apps: Repository<ApplicationEntity>,
    private readonly users: UsersService,
    private readonly userCommands: UserCommandsService,
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

  private async createUser(applicationId: number, username: string, guest: boolean): Promise<Pick<UserEntity, 'id' | 'name'>> {
    try {
      return await this.userCommands.create(applicationId, { name: username, display_name: username, is_guest: guest, properties: {} }, 0);
    } catch (e) {
      // Two sessions of a new user starting at once: the other one created it.
      const existing = await this.users.findByName(applicationId, username);
      if (existing) return existing;
      throw e;
    }
  }
}
