import { MicroBatcher } from './micro-batcher';

describe('MicroBatcher', () => {
  it('flushes items added in one turn together and resolves each with its own result', async () => {
    const batches: number[][] = [];
    const b = new MicroBatcher<number, number>(async (xs) => {
      batches.push(xs);
      return xs.map((x) => x * 2);
    });
    expect(await Promise.all([1, 2, 3].map((x) => b.add(x)))).toEqual([2, 4, 6]);
    expect(batches).toEqual([[1, 2, 3]]);
  });

  it('gathers items while a flush runs (group commit) and respects maxBatch', async () => {
    const batches: number[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const b = new MicroBatcher<number>(
      async (xs) => {
        batches.push(xs);
        if (batches.length === 1) await gate;
      },
      { maxConcurrent: 1, maxBatch: 3 },
    );
    const first = b.add(0);
    await new Promise((r) => setImmediate(r));
    const rest = [1, 2, 3, 4].map((x) => b.add(x));
    release();
    await Promise.all([first, ...rest]);
    expect(batches).toEqual([[0], [1, 2, 3], [4]]);
  });

  it('rejects every item of a failed batch', async () => {
    const b = new MicroBatcher<number>(async () => {
      throw new Error('down');
    });
    await expect(Promise.all([b.add(1), b.add(2)])).rejects.toThrow('down');
  });

  it('bounds a batch by the weights of its items when given a weight', async () => {
    const batches: number[][][] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const b = new MicroBatcher<number[]>(
      async (xs) => {
        batches.push(xs);
        if (batches.length === 1) await gate;
      },
      { maxConcurrent: 1, maxBatch: 4, weight: (xs) => xs.length },
    );
    const first = b.add([0]);
    await new Promise((r) => setImmediate(r));
    const rest = [[1, 2], [3, 4], [5, 6, 7, 8, 9], [10]].map((x) => b.add(x));
    release();
    await Promise.all([first, ...rest]);
    // [5..9] alone exceeds the bound: it goes on its own rather than waiting forever.
    expect(batches).toEqual([[[0]], [[1, 2], [3, 4]], [[5, 6, 7, 8, 9]], [[10]]]);
  });
});
