import { inventorySchema, type Inventory } from '../../../provision/inventory/schema.js';

/** A full inventory (every workload on, fixed addresses set) as a user would write it, parsed with the real schema. */
export function labInventory(overrides: { workloads?: Record<string, unknown>; network?: Record<string, unknown>; cluster?: Record<string, unknown> } = {}): Inventory {
  return inventorySchema.parse({
    cluster: { name: 'lab', domain: 'revue.lan', ...overrides.cluster },
    nodes: [
      { name: 'pi-1', host: '127.0.0.11', role: 'server' },
      { name: 'pi-2', host: '127.0.0.12', role: 'agent' },
      { name: 'pi-3', host: '127.0.0.13', role: 'agent' },
    ],
    network: {
      metallb: { pools: [{ name: 'lan', addresses: ['192.168.50.240/28'] }, { name: 'spare', addresses: ['192.168.50.200-192.168.50.210'] }] },
      addresses: { ingress: '192.168.50.240', mediaServer: '192.168.50.241', kafka: ['192.168.50.242', '192.168.50.243'] },
      ...overrides.network,
    },
    workloads: { mediaServerHosts: ['media.revue.lan', '192.168.50.241'], ...overrides.workloads },
  });
}

/** The smallest valid inventory: everything at its defaults. */
export function minimalInventory(): Inventory {
  return inventorySchema.parse({ cluster: { name: 'mini' }, nodes: [{ name: 'pi', host: '127.0.0.20', role: 'server' }] });
}
