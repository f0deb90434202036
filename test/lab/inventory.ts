/**
 * The inventory a lab hands to the CLI (pure; lab.ts writes it). Shape: core/inventory/schema.ts.
 *
 * `extra` is deep-merged on top: objects merge key by key, arrays replace — except `nodes`, which merges
 * by `name`: `{ nodes: [{ name: 'pi-2', role: 'server' }] }` changes pi-2's role and keeps the rest;
 * an entry `{ name: 'pi-3', omit: true }` leaves pi-3 out; an entry naming no lab node is appended as is.
 * Default roles: the first node is the server, the others agents. With `poolAddresses`, a MetalLB pool
 * named `lab` (replace it with `extra.network.metallb.pools`).
 */

export interface LabInventoryNode {
  name: string;
  address: string;
  /** its sshd's port, when not the inventory-wide one (written as the node's ssh.port) */
  port?: number;
}

export interface LabInventoryBase {
  user: string;
  port: number;
  keyPath: string;
  knownHostsFile: string;
  clusterName?: string;
  /** MetalLB pool (the inventory rules require one); nothing answers on these addresses in the lab. */
  poolAddresses?: string[];
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function deepMerge(base: Obj, extra: Obj): Obj {
  const out: Obj = { ...base };
  for (const [k, v] of Object.entries(extra)) {
    const b = out[k];
    out[k] = isObj(b) && isObj(v) ? deepMerge(b, v) : v;
  }
  return out;
}

export function renderLabInventory(nodes: LabInventoryNode[], base: LabInventoryBase, extra: Obj = {}): Obj {
  const { nodes: extraNodes, ...rest } = extra;
  if (extraNodes !== undefined && !Array.isArray(extraNodes)) throw new Error('writeInventory: extra.nodes must be an array of node entries matched by name.');
  const overrides = new Map<string, Obj>();
  for (const n of (extraNodes ?? []) as unknown[]) {
    if (!isObj(n) || typeof n.name !== 'string') throw new Error('writeInventory: every extra.nodes entry needs a name.');
    overrides.set(n.name, n);
  }
  const merged: Obj[] = [];
  nodes.forEach((n, i) => {
    const o = overrides.get(n.name);
    overrides.delete(n.name);
    if (o?.omit === true) return;
    const { omit: _omit, ...fields } = o ?? {};
    merged.push(
      deepMerge({ name: n.name, host: n.address, role: i === 0 ? 'server' : 'agent', ...(n.port !== undefined ? { ssh: { port: n.port } } : {}) }, fields),
    );
  });
  for (const o of overrides.values()) merged.push(o);
  const inventory: Obj = {
    cluster: { name: base.clusterName ?? 'lab' },
    ssh: { user: base.user, port: base.port, keyPath: base.keyPath, useAgent: false, knownHostsFile: base.knownHostsFile },
    nodes: merged,
    ...(base.poolAddresses ? { network: { metallb: { pools: [{ name: 'lab', addresses: base.poolAddresses }] } } } : {}),
  };
  return deepMerge(inventory, rest);
}
