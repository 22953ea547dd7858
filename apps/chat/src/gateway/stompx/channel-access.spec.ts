import { ChannelAccess } from './channel-access';

const holder = (userId: number, applicationId = 1) => ({ session: { applicationId, userId } });
const ev = (type: string, channelType = 'PRIVATE', userId?: number) => ({
  applicationId: 1,
  type,
  channelId: 3,
  userId,
  depth: 0,
  data: { channel: { id: 3, type: channelType }, user: userId === undefined ? undefined : { id: userId } },
});

describe('ChannelAccess', () => {
  it('drops only the removed member\'s grants, and says they lost a non-public channel', () => {
    const access = new ChannelAccess();
    const [bob, bobAgain, ann] = [holder(7), holder(7), holder(5)];
    const revoked: number[] = [];
    access.onRevoked((h) => revoked.push(h.session!.userId));
    for (const h of [bob, bobAgain, ann]) access.grant(h, 3, access.generation());
    expect(access.apply(ev('channel.member.removed', 'PRIVATE', 7))).toEqual({ channelId: 3, applicationId: 1, lostBy: 7 });
    expect([access.has(bob, 3), access.has(bobAgain, 3), access.has(ann, 3)]).toEqual([false, false, true]);
    expect(revoked).toEqual([7, 7]);
    access.grant(bob, 3, access.generation());
    expect(access.apply(ev('channel.member.removed', 'PUBLIC', 7))?.lostBy).toBeUndefined();
    expect(access.has(bob, 3)).toBe(false);
  });

  it('drops every grant of a deleted or updated channel, in its application only', () => {
    const access = new ChannelAccess();
    const [a, b, other] = [holder(7), holder(5), holder(7, 2)];
    for (const h of [a, b, other]) access.grant(h, 3, access.generation());
    expect(access.apply(ev('channel.updated'))?.lostBy).toBeUndefined();
    expect([access.has(a, 3), access.has(b, 3), access.has(other, 3)]).toEqual([false, false, true]);
    access.grant(a, 3, access.generation());
    expect(access.apply(ev('channel.deleted'))?.lostBy).toBe('everyone');
    expect(access.has(a, 3)).toBe(false);
    expect(access.apply(ev('user.sent.message'))).toBeUndefined();
  });

  it('does not cache a check that raced with an access change, and forgets closed connections', () => {
    const access = new ChannelAccess();
    const bob = holder(7);
    const before = access.generation();
    access.apply(ev('channel.member.removed', 'PRIVATE', 7));
    access.grant(bob, 3, before);
    expect(access.has(bob, 3)).toBe(false);
    access.grant(bob, 3, access.generation());
    access.forget(bob);
    expect(access.has(bob, 3)).toBe(false);
  });
});
