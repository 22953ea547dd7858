import { ExecutionReply, FunctionSnapshot } from '@chatfn/contracts';
import { MessagingError } from '../../../../libs/messaging/src/message-bus';
import { AttemptedSendEvent, MessageRejectedError, SendMessageHook, VerdictRequester } from './send-message.hook';

const fn = (over: Partial<FunctionSnapshot> = {}): FunctionSnapshot => ({
  id: 7,
  applicationId: 1,
  triggerType: 'user.attempted.send_message',
  enabled: true,
  currentVersionNumber: 1,
  timeoutMs: 300,
  failurePolicy: 'allow',
  ...over,
});
const event: AttemptedSendEvent = {
  user: { id: 1, name: 'jane' },
  channel: { id: 2, type: 'PUBLIC' },
  message: { type: 'TEXT', body: 'hello', properties: {} },
};
const reply = (r: Partial<ExecutionReply>): ExecutionReply => ({ outcome: 'ran', logs: '', durationMs: 1, ...r });

function hookWith(snapshot: FunctionSnapshot | undefined, answer: () => Promise<ExecutionReply>) {
  const calls: { payload: unknown; deadlineMs: number }[] = [];
  const requester: VerdictRequester = {
    request: (payload, deadlineMs) => {
      calls.push({ payload, deadlineMs });
      return answer();
    },
  };
  return { hook: new SendMessageHook({ get: () => snapshot }, requester, 5000), calls };
}

describe('SendMessageHook', () => {
  it('lets the message through without asking when no function is enabled', async () => {
    for (const s of [undefined, fn({ enabled: false }), fn({ currentVersionNumber: 0 })]) {
      const { hook, calls } = hookWith(s, () => Promise.reject(new Error('not called')));
      await expect(hook.check(1, event, 0)).resolves.toEqual({});
      expect(calls).toHaveLength(0);
      expect(hook.applies(1)).toBe(false);
    }
    expect(hookWith(fn(), () => Promise.reject(new Error('not called'))).hook.applies(1)).toBe(true);
  });

  it('asks with the trigger, event, depth and the function deadline, and applies body/properties', async () => {
    const { hook, calls } = hookWith(fn(), async () => reply({ result: { body: 'HELLO', properties: { checked: true } } }));
    await expect(hook.check(1, event, 2)).resolves.toEqual({ body: 'HELLO', properties: { checked: true } });
    expect(calls[0]).toEqual({
      payload: { applicationId: 1, triggerType: 'user.attempted.send_message', event, deadlineMs: 300, functionId: 7, depth: 2 },
      deadlineMs: 300,
    });
  });

  it('unwraps an invocation result {payload}', async () => {
    const { hook } = hookWith(fn(), async () => reply({ result: { payload: { body: 'x' } } }));
    await expect(hook.check(1, event, 0)).resolves.toEqual({ body: 'x' });
  });

  it('lets through when the function returns nothing or no function ran', async () => {
    for (const r of [reply({}), reply({ outcome: 'no-function' }), reply({ result: 'text' })]) {
      const { hook } = hookWith(fn(), async () => r);
      await expect(hook.check(1, event, 0)).resolves.toEqual({});
    }
  });

  it('rejects with the function error message', async () => {
    const { hook } = hookWith(fn(), async () => reply({ error: { name: 'Error', message: 'no swearing' } }));
    const err = await hook.check(1, event, 0).catch((e) => e);
    expect(err).toBeInstanceOf(MessageRejectedError);
    expect(err).toMatchObject({ message: 'no swearing' });
  });

  it('applies the failure policy on timeout or missing executor', async () => {
    const timeout = () => Promise.reject(new MessagingError('REQUEST_TIMEOUT', 'late'));
    const noResponder = () => Promise.reject(new MessagingError('NO_RESPONDER', 'none'));
    const timedOutReply = async () => reply({ error: { name: 'TimeoutError', message: 'late' }, timedOut: true });
    for (const answer of [timeout, noResponder, timedOutReply]) {
      await expect(hookWith(fn(), answer).hook.check(1, event, 0)).resolves.toEqual({});
      await expect(hookWith(fn({ failurePolicy: 'deny' }), answer).hook.check(1, event, 0)).rejects.toBeInstanceOf(MessageRejectedError);
    }
  });
});
