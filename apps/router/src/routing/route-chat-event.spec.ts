import { ChatEventPayload, FunctionSnapshot } from '@chatfn/contracts';
import { routeChatEvent, RunnableFunctions } from './route-chat-event';

const fn: FunctionSnapshot & { handlerScript: string } = {
  id: 5,
  applicationId: 1,
  triggerType: 'user.sent.message',
  enabled: true,
  currentVersionNumber: 3,
  handlerScript: 'async function handleEvent() {}',
  timeoutMs: 4000,
  failurePolicy: 'allow',
};
const functions: RunnableFunctions = {
  findRunnable: (app, type) => (app === fn.applicationId && type === fn.triggerType ? fn : undefined),
};
const event = (over: Partial<ChatEventPayload> = {}): ChatEventPayload => ({
  applicationId: 1,
  type: 'user.sent.message',
  channelId: 9,
  depth: 0,
  data: { message: { body: 'hi' } },
  ...over,
});
const opts = { maxDepth: 3, defaultTimeoutMs: 10_000 };

describe('routeChatEvent', () => {
  it('routes a non-blocking trigger to its enabled function', () => {
    const [r, ...rest] = routeChatEvent('ev-1', event(), functions, opts);
    expect(rest).toEqual([]);
    expect(r.payload).toMatchObject({
      applicationId: 1,
      functionId: 5,
      versionNumber: 3,
      triggerType: 'user.sent.message',
      sourceEventId: 'ev-1',
      channelId: 9,
      depth: 0,
      attempt: 1,
      timeoutMs: 4000,
      event: { message: { body: 'hi' } },
    });
  });

  it('is deterministic for a redelivered event and distinct across events', () => {
    const a = routeChatEvent('ev-1', event(), functions, opts)[0];
    const b = routeChatEvent('ev-1', event(), functions, opts)[0];
    const c = routeChatEvent('ev-2', event(), functions, opts)[0];
    expect(a.eventId).toBe(b.eventId);
    expect(a.payload.invocationId).toBe(b.payload.invocationId);
    expect(c.payload.invocationId).not.toBe(a.payload.invocationId);
    expect(a.payload.invocationId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('stops at the depth limit', () => {
    expect(routeChatEvent('e', event({ depth: 2 }), functions, opts)).toHaveLength(1);
    expect(routeChatEvent('e', event({ depth: 3 }), functions, opts)).toEqual([]);
  });

  it('ignores blocking triggers, platform events and apps without a function', () => {
    expect(routeChatEvent('e', event({ type: 'user.attempted.send_message' }), functions, opts)).toEqual([]);
    expect(routeChatEvent('e', event({ type: 'channel.created' }), functions, opts)).toEqual([]);
    expect(routeChatEvent('e', event({ applicationId: 2 }), functions, opts)).toEqual([]);
  });
});
