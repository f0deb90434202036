import { describe, expect, it } from 'vitest';
import { forEachNode, limiter, MAX_NODES_AT_ONCE, nodesAtOnce } from '../../../core/runner.js';

describe('nodesAtOnce', () => {
  it('works on every node at once by default, up to the cap', () => {
    expect(nodesAtOnce(30)).toBe(30);
    expect(nodesAtOnce(2)).toBe(2);
    expect(nodesAtOnce(500)).toBe(MAX_NODES_AT_ONCE);
    expect(MAX_NODES_AT_ONCE).toBe(64);
  });

  it('takes --concurrency as given', () => {
    expect(nodesAtOnce(30, 10)).toBe(10);
    expect(nodesAtOnce(30, 100)).toBe(100);
  });

  it('never goes below one (an inventory is never empty, but a limit of 0 would hang)', () => {
    expect(nodesAtOnce(0)).toBe(1);
  });
});

/** Work that records how many calls overlap, finishing when `release` is called. */
function overlapCounter() {
  let running = 0;
  let max = 0;
  const releases: (() => void)[] = [];
  const work = () =>
    new Promise<void>((resolve) => {
      running++;
      max = Math.max(max, running);
      releases.push(() => {
        running--;
        resolve();
      });
    });
  return { work, releases, max: () => max, running: () => running };
}

describe('forEachNode at the default concurrency', () => {
  it('starts all 30 nodes before any finishes (no queue behind a fixed limit)', async () => {
    const nodes = Array.from({ length: 30 }, (_, i) => ({ name: `pi-${i + 1}` }));
    const c = overlapCounter();
    const done = forEachNode(nodes, nodesAtOnce(nodes.length), () => c.work());
    await new Promise((r) => setImmediate(r));
    expect(c.running()).toBe(30);
    for (const release of c.releases) release();
    const results = await done;
    expect([...results.values()].every((r) => r.ok)).toBe(true);
  });
});

describe('limiter', () => {
  it('runs at most `limit` calls at once and the rest in order as slots free up', async () => {
    const slots = limiter(2);
    const c = overlapCounter();
    const order: number[] = [];
    const all = [1, 2, 3, 4, 5].map((i) =>
      slots(async () => {
        order.push(i);
        await c.work();
        return i;
      }),
    );
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual([1, 2]);
    c.releases.shift()!();
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual([1, 2, 3]);
    while (c.releases.length > 0 || order.length < 5) {
      c.releases.shift()?.();
      await new Promise((r) => setImmediate(r));
    }
    expect(await Promise.all(all)).toEqual([1, 2, 3, 4, 5]);
    expect(c.max()).toBe(2);
  });

  it('frees the slot when the work throws', async () => {
    const slots = limiter(1);
    await expect(slots(() => Promise.reject(new Error('dial failed')))).rejects.toThrow('dial failed');
    await expect(slots(async () => 'next')).resolves.toBe('next');
  });
});
