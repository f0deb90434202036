import yaml from 'js-yaml';
import type { Inventory, InventoryNode } from '../core/inventory/schema.js';
import { serverUrl, type FirstServerStart } from './config.js';
import type { EtcdMember } from './day-two/etcd.js';
import type { K3sFacts } from './facts.js';

/**
 * How the inventory's first server takes part (FirstServerStart), decided from the probes. Pure. The danger it guards:
 * a rebuilt first server started with cluster-init while the other servers still run founds a second cluster beside
 * the first (issue 16; test/lab/k3s-standin/README.md "Day-two contract"). So cluster-init is written only when no other
 * listed server answers as a K3s server; otherwise the first server joins the first one that does.
 */

/** A listed server whose probe shows K3s running as a server (k3s.service installed and active). */
export function answersAsServer(facts: K3sFacts): boolean {
  return facts.installedVersion !== undefined && facts.unit === 'k3s' && facts.units.includes('k3s') && facts.active;
}

export interface OtherServer {
  node: InventoryNode;
  /** undefined: it could not be probed (unreachable, its preparation failed). */
  k3s: K3sFacts | undefined;
}

export type FirstServerDecision = FirstServerStart | { kind: 'refused'; message: string };

export function decideFirstServerStart(inventory: Inventory, first: { node: InventoryNode; k3s: K3sFacts }, others: OtherServer[]): FirstServerDecision {
  const { k3s } = first;
  const installed = k3s.installedVersion !== undefined && k3s.units.includes('k3s');
  if (installed) {
    const servers = inventory.nodes.filter((n) => n.role === 'server').length;
    // An existing single SQLite server stays one unless asked: cluster-init would migrate it at its next restart.
    if (k3s.datastore === 'sqlite' && servers === 1 && inventory.k3s.datastore !== 'etcd') return { kind: 'sqlite' };
    // It joined a live server when it was rebuilt: keep its `server:` (K3s ignores it once its etcd is initialised,
    // and rewriting it would only restart K3s).
    const joined = configuredServer(k3s.config);
    if (joined !== undefined) return { kind: 'join', server: joined };
    return { kind: 'cluster-init' };
  }
  const live = others.find((o) => o.k3s !== undefined && answersAsServer(o.k3s));
  if (live) return { kind: 'join', server: serverUrl(live.node), via: live.node.name };
  const unknown = others.filter((o) => o.k3s === undefined).map((o) => o.node.name);
  if (unknown.length > 0) {
    return {
      kind: 'refused',
      message:
        `first server ${first.node.name} has no K3s, and server${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} could not be probed, so revue-pi cannot tell whether the cluster still runs there: ` +
        `starting a new one on ${first.node.name} (cluster-init) could split it in two. Make ${unknown.join(', ')} reachable and run up again.`,
    };
  }
  return { kind: 'cluster-init' };
}

/** The `server:` a node's config.yaml names, if any. */
export function configuredServer(config: string | undefined): string | undefined {
  if (config === undefined) return undefined;
  try {
    const doc = yaml.load(config) as Record<string, unknown> | undefined;
    const server = doc && typeof doc === 'object' ? doc['server'] : undefined;
    return typeof server === 'string' && server.trim() !== '' ? server.trim() : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The etcd member a wiped server left behind, by K3s's own rule: a member whose name is `<node-name>-<suffix>`
 * (pkg/etcd/etcd.go join(): "duplicate node name found" refuses a new member while it exists).
 */
export function staleMemberOf(members: EtcdMember[], node: InventoryNode): EtcdMember | undefined {
  return members.find((m) => {
    const cut = m.name.lastIndexOf('-');
    return (cut > 1 ? m.name.slice(0, cut) : m.name) === node.name;
  });
}

/**
 * What `status` and `up` say of a single server running on SQLite (made before new clusters got cluster-init): it works,
 * but `revue-pi backup` and a second server need embedded etcd, and revue-pi does not migrate it unasked.
 */
export function sqliteNotice(server: string): string {
  return (
    `SQLite datastore: backups and more servers need embedded etcd, and server ${server} keeps this cluster in SQLite (it was made before revue-pi started new clusters with cluster-init). ` +
    `It keeps working as it is; to move it, back it up by hand first (K3s docs, "Backup and Restore with SQLite": stop k3s on ${server}, copy /var/lib/rancher/k3s/server/db/ and /var/lib/rancher/k3s/server/token), ` +
    `then set k3s.datastore: etcd in the inventory (or add servers to it) and run revue-pi up: it restarts K3s on ${server} with cluster-init, and K3s moves the data into etcd.`
  );
}
