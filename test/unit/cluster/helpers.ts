import { inventorySchema, type Inventory } from '../../../core/inventory/schema.js';

/** An inventory as the parser would hand it over (schema defaults applied). Addresses are never contacted. */
export function inventory(extra: Record<string, unknown> = {}, nodes?: unknown[]): Inventory {
  return inventorySchema.parse({
    cluster: { name: 'lab' },
    nodes: nodes ?? [
      { name: 'pi-1', host: '192.168.1.101', role: 'server' },
      { name: 'pi-2', host: '192.168.1.102', role: 'agent', labels: { 'revue/zone': 'a', disk: 'ssd' }, taints: ['dedicated=db:NoSchedule'] },
      { name: 'pi-3', host: '192.168.1.103', role: 'agent' },
    ],
    ...extra,
  });
}

export function haInventory(extra: Record<string, unknown> = {}): Inventory {
  return inventory(extra, [
    { name: 's1', host: '192.168.1.11', role: 'server' },
    { name: 's2', host: '192.168.1.12', role: 'server' },
    { name: 's3', host: '192.168.1.13', role: 'server' },
    { name: 'a1', host: '192.168.1.21', role: 'agent' },
  ]);
}
