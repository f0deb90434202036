import { describe, expect, it, vi } from 'vitest';
import { inventorySchema } from '../../../core/inventory/schema.js';
import { RunLog } from '../../../core/log.js';
import type { Transport } from '../../../core/remote/transport.js';

/**
 * Test double for the SSH dial (core/remote/ssh.ts connectNode): no sshd can be reached from a unit test. Each dial
 * stays pending until the test lets it finish, so the dials in flight can be counted.
 */
const dials = vi.hoisted(() => ({ pending: [] as { node: string; finish: () => void }[] }));
vi.mock('../../../core/remote/ssh.js', () => ({
  connectNode: (_settings: unknown, opts: { nodeName: string }) =>
    new Promise<Transport>((resolve) => dials.pending.push({ node: opts.nodeName, finish: () => resolve({ nodeName: opts.nodeName } as Transport) })),
}));

const { MAX_DIALS_PER_JUMP_HOST, transportOpener } = await import('../../../core/connect.js');

const settle = () => new Promise((r) => setTimeout(r, 0));

function inventoryOf(count: number, jump: boolean) {
  return inventorySchema.parse({
    cluster: { name: 'lab' },
    ssh: { configFile: 'none', ...(jump ? { jump: { host: 'bastion.example', user: 'ops' } } : {}) },
    nodes: Array.from({ length: count }, (_, i) => ({ name: `pi-${i + 1}`, host: `10.0.0.${i + 1}`, role: i === 0 ? 'server' : 'agent' })),
  });
}

describe('transportOpener: logins through one jump host', () => {
  it(`dials at most ${MAX_DIALS_PER_JUMP_HOST} nodes at once through it (sshd's MaxStartups), the rest as those finish`, async () => {
    dials.pending.length = 0;
    const inventory = inventoryOf(14, true);
    const open = transportOpener(inventory, { log: RunLog.none('up') });
    const all = inventory.nodes.map((node) => open(node));
    await settle();
    expect(dials.pending.map((d) => d.node)).toEqual(inventory.nodes.slice(0, 10).map((n) => n.name));
    dials.pending[0]!.finish();
    await settle();
    expect(dials.pending).toHaveLength(11);
    for (let i = 1; i < 14; i++) {
      await vi.waitFor(() => expect(dials.pending.length).toBeGreaterThan(i));
      dials.pending[i]!.finish();
    }
    expect((await Promise.all(all)).map((t) => t.nodeName)).toEqual(inventory.nodes.map((n) => n.name));
  });

  it('dials every node at once without a jump host', async () => {
    dials.pending.length = 0;
    const inventory = inventoryOf(14, false);
    const open = transportOpener(inventory, { log: RunLog.none('up') });
    const all = inventory.nodes.map((node) => open(node));
    await settle();
    expect(dials.pending).toHaveLength(14);
    for (const d of dials.pending) d.finish();
    await Promise.all(all);
  });
});
