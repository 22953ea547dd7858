import { PendingRequests } from './pending-requests';

describe('PendingRequests', () => {
  it('rejects each request at its own deadline, never before, whatever order they came in', async () => {
    const pending = new PendingRequests();
    const t0 = performance.now();
    const timedOut: Array<{ id: string; at: number }> = [];
    const watch = (id: string, deadlineMs: number) =>
      pending.add(id, 'topic', deadlineMs).catch((err: { code: string }) => {
        expect(err.code).toBe('REQUEST_TIMEOUT');
        timedOut.push({ id, at: performance.now() - t0 });
      });

    await Promise.all([watch('late', 60), watch('early', 20), watch('middle', 40)]);

    expect(timedOut.map((t) => t.id)).toEqual(['early', 'middle', 'late']);
    for (const { id, at } of timedOut) expect(at).toBeGreaterThanOrEqual({ early: 20, middle: 40, late: 60 }[id]! - 1);
  });

  it('settles a request once: a reply after the deadline, or a second reply, is ignored', async () => {
    const pending = new PendingRequests();
    const answered = pending.add('a', 'topic', 1000);
    expect(pending.resolve('a', 1)).toBe(true);
    expect(pending.resolve('a', 2)).toBe(false);
    await expect(answered).resolves.toBe(1);

    const late = pending.add('b', 'topic', 5);
    await expect(late).rejects.toMatchObject({ code: 'REQUEST_TIMEOUT' });
    expect(pending.resolve('b', 3)).toBe(false);
    expect(pending.size).toBe(0);
  });

  it('keeps timing out correctly after many answered requests', async () => {
    const pending = new PendingRequests();
    for (let i = 0; i < 5000; i++) {
      const reply = pending.add(`r${i}`, 'topic', 10_000);
      pending.resolve(`r${i}`, i);
      await reply;
    }
    await expect(pending.add('slow', 'topic', 10)).rejects.toMatchObject({ code: 'REQUEST_TIMEOUT' });
  });

  it('rejects everything still waiting on rejectAll', async () => {
    const pending = new PendingRequests();
    const waiting = [pending.add('a', 't', 1000), pending.add('b', 't', 2000)];
    pending.rejectAll(new Error('stopped'));
    for (const w of waiting) await expect(w).rejects.toThrow('stopped');
  });
});
