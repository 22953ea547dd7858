import { Injectable } from '@nestjs/common';
import { ChatEventPayload } from '@chatfn/contracts';

/** What the cache needs of a connection: whose session it serves. */
export interface AccessHolder {
  readonly session?: { applicationId: number; userId: number };
}

type Revoked = (holder: AccessHolder, channelId: number) => void;

/** What a chat event changed about channel access: whose cached grants went, and who lost the channel for good. */
export interface AccessChange {
  channelId: number;
  applicationId: number;
  /** 'everyone': the channel was deleted; a user id: that user was removed from a non-public channel; else nobody. */
  lostBy?: number | 'everyone';
}

/**
 * Per-connection cache of the channels a connection may see (PUBLIC or member), so keystrokes, typing and sends do
 * not query on every frame. Every gateway instance applies the chat events that change access
 * (`channel.member.removed`, `channel.deleted`, `channel.updated`) from the bus before fanning them out, so a client
 * that sees `me.channel.left` already has its grant dropped on its instance. A change counter keeps an access check
 * that raced with such an event from caching its stale answer.
 */
@Injectable()
export class ChannelAccess {
  private readonly byHolder = new Map<AccessHolder, Set<number>>();
  private readonly byChannel = new Map<number, Set<AccessHolder>>();
  /** Bumped by every access change: a check that started before one does not cache its answer. */
  private changes = 0;
  private readonly listeners: Revoked[] = [];

  has(holder: AccessHolder, channelId: number): boolean {
    return this.byHolder.get(holder)?.has(channelId) ?? false;
  }

  /** Read before an access query and passed to `grant`. */
  generation(): number {
    return this.changes;
  }

  /** Caches a positive access check, unless an access change arrived since `generation` (rare: the next use re-checks). */
  grant(holder: AccessHolder, channelId: number, generation: number): void {
    if (this.changes !== generation) return;
    let channels = this.byHolder.get(holder);
    if (!channels) this.byHolder.set(holder, (channels = new Set()));
    channels.add(channelId);
    let holders = this.byChannel.get(channelId);
    if (!holders) this.byChannel.set(channelId, (holders = new Set()));
    holders.add(holder);
  }

  revoke(holder: AccessHolder, channelId: number): void {
    const channels = this.byHolder.get(holder);
    if (!channels?.delete(channelId)) return;
    if (channels.size === 0) this.byHolder.delete(holder);
    const holders = this.byChannel.get(channelId);
    holders?.delete(holder);
    if (holders?.size === 0) this.byChannel.delete(channelId);
    for (const l of this.listeners) l(holder, channelId);
  }

  /** A connection closed: all its grants go (without listeners: its session ends anyway). */
  forget(holder: AccessHolder): void {
    for (const channelId of this.byHolder.get(holder) ?? []) {
      const holders = this.byChannel.get(channelId);
      holders?.delete(holder);
      if (holders?.size === 0) this.byChannel.delete(channelId);
    }
    this.byHolder.delete(holder);
  }

  /** Called with every grant revoked (typing in progress stops). */
  onRevoked(listener: Revoked): void {
    this.listeners.push(listener);
  }

  /**
   * Applies a chat event: drops the cached grants it may have made wrong and says who lost the channel. A removed
   * member keeps seeing a PUBLIC channel; a channel update (type, visibility) is re-checked on next use.
   */
  apply(e: ChatEventPayload): AccessChange | undefined {
    const channelId = e.channelId;
    if (channelId === undefined) return undefined;
    const data = e.data as { user?: { id?: unknown }; channel?: { type?: unknown } } | undefined;
    let userId: number | undefined;
    let lostBy: AccessChange['lostBy'];
    switch (e.type) {
      case 'channel.member.removed':
        userId = Number(e.userId ?? data?.user?.id);
        if (!Number.isSafeInteger(userId)) return undefined;
        if (data?.channel?.type !== 'PUBLIC') lostBy = userId;
        break;
      case 'channel.deleted':
        lostBy = 'everyone';
        break;
      case 'channel.updated':
        break;
      default:
        return undefined;
    }
    this.changes++;
    for (const holder of [...(this.byChannel.get(channelId) ?? [])]) {
      const s = holder.session;
      if (!s || s.applicationId !== e.applicationId) continue;
      if (userId === undefined || s.userId === userId) this.revoke(holder, channelId);
    }
    return { channelId, applicationId: e.applicationId, lostBy };
  }
}
