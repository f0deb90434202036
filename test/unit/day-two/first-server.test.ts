import { describe, expect, it } from 'vitest';
import { firstAnsweringServer } from '../../../cluster/day-two/first-server.js';
import type { InventoryNode } from '../../../core/inventory/schema.js';
import { FakeTransport } from '../../fakes/fake-transport.js';

const node = (name: string): InventoryNode => ({ name, host: `192.168.1.${name.slice(-1)}`, role: 'server', labels: {}, taints: [] });
const SERVERS = [node('pi-1'), node('pi-2'), node('pi-3')];

describe('firstAnsweringServer', () => {
  it('tries the servers in order, keeps the first transport whose read returns open and closes the others', async () => {
    const transports = new Map(SERVERS.map((n) => [n.name, new FakeTransport(n.name)]));
    const opened: string[] = [];
    const answered = await firstAnsweringServer(
      SERVERS,
      async (n) => {
        opened.push(n.name);
        if (n.name === 'pi-1') throw new Error('connect ECONNREFUSED 192.168.1.1:22\nsecond line');
        return transports.get(n.name)!;
      },
      async (_t, n) => {
        if (n.name === 'pi-2') throw new Error('no K3s server data there');
        return `read on ${n.name}`;
      },
    );
    expect(opened).toEqual(['pi-1', 'pi-2', 'pi-3']);
    expect(answered).toEqual({ node: SERVERS[2], transport: transports.get('pi-3'), found: 'read on pi-3' });
    expect(transports.get('pi-2')!.closed).toBe(true);
    expect(transports.get('pi-3')!.closed).toBe(false);
  });

  it('says why each server was passed over, with the reason the caller writes', async () => {
    const whole = await firstAnsweringServer(
      SERVERS.slice(0, 2),
      async (n) => new FakeTransport(n.name),
      async (_t, n) => {
        throw new Error(`${n.name} is down\nhint`);
      },
    );
    expect(whole).toEqual({ tried: ['pi-1: pi-1 is down\nhint', 'pi-2: pi-2 is down\nhint'] });
    const firstLine = await firstAnsweringServer(
      SERVERS.slice(0, 1),
      async (n) => new FakeTransport(n.name),
      async () => {
        throw new Error('down\nhint');
      },
      (error) => (error as Error).message.split('\n')[0]!,
    );
    expect(firstLine).toEqual({ tried: ['pi-1: down'] });
    expect(
      await firstAnsweringServer(
        [],
        async () => new FakeTransport('x'),
        async () => 1,
      ),
    ).toEqual({ tried: [] });
  });
});
