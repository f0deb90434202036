import yaml from 'js-yaml';
import type { Inventory, InventoryNode } from '../core/inventory/schema.js';
import { API_PORT, TOKEN_FILE_PATH } from '../core/k3s-paths.js';

/**
 * The content of /etc/rancher/k3s/config.yaml for one node. Keys are K3s flag names; the installer and
 * K3s read the file themselves, so re-running the installer never loses a setting, and a re-run compares
 * the file byte for byte: keys sorted, lists in a fixed order, no line wrapping.
 */
export interface K3sConfigContext {
  /** The inventory's first node with role server: the one that starts the cluster. */
  firstServer: InventoryNode;
  isFirstServer: boolean;
  /** How the first server takes part (used when isFirstServer); default: it starts the cluster with embedded etcd. */
  firstServerStart?: FirstServerStart;
}

/**
 * How the first server takes part. `cluster-init`: it starts the cluster with embedded etcd (every new cluster, even of
 * one server: snapshots and a later second server need etcd). `sqlite`: an existing single server on SQLite, left as it
 * is (adding cluster-init would migrate it at its next restart: only on request, k3s.datastore: etcd). `join`: it joins
 * a listed server that already runs the cluster (a rebuilt first server; cluster-init there would start a second cluster).
 */
export type FirstServerStart =
  { kind: 'cluster-init' } | { kind: 'sqlite' } | { kind: 'join'; server: string; /** the live server's name, when it was chosen this run */ via?: string };

/** A host as it stands in a URL: an IPv6 address in brackets. */
export function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

export function serverUrl(firstServer: InventoryNode): string {
  return `https://${urlHost(firstServer.host)}:${API_PORT}`;
}

/**
 * cluster.apiEndpoint may be written as a host, host:port or a URL; the certificate (tls-san) needs the host
 * alone, the kubeconfig a full https URL (port 6443 unless one is given).
 */
export function apiEndpointHost(endpoint: string): string {
  const trimmed = endpoint.trim();
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)) {
    try {
      return new URL(trimmed).hostname.replace(/^\[(.*)\]$/, '$1');
    } catch {
      return trimmed;
    }
  }
  const hostPort = /^([^:\s]+):\d+$/.exec(trimmed) ?? /^\[([^\]]+)\]:\d+$/.exec(trimmed);
  return hostPort ? hostPort[1]! : trimmed;
}

export function apiServerUrl(inventory: Inventory, firstServer: InventoryNode): string {
  const endpoint = inventory.cluster.apiEndpoint?.trim();
  if (!endpoint) return serverUrl(firstServer);
  if (/^https:\/\//i.test(endpoint)) return endpoint.replace(/\/+$/, '');
  if (/^([^:\s]+|\[[^\]]+\]):\d+$/.test(endpoint)) return `https://${endpoint}`;
  return `https://${urlHost(apiEndpointHost(endpoint))}:${API_PORT}`;
}

export function firstServerOf(inventory: Inventory): InventoryNode | undefined {
  return inventory.nodes.find((n) => n.role === 'server');
}

/** The settings as an object (what renderK3sConfig writes). */
export function k3sConfigValues(inventory: Inventory, node: InventoryNode, ctx: K3sConfigContext): Record<string, unknown> {
  const values: Record<string, unknown> = {
    'node-name': node.name,
    'token-file': TOKEN_FILE_PATH,
  };
  const labels = Object.entries(node.labels)
    .map(([k, v]) => `${k}=${v}`)
    .sort();
  if (labels.length > 0) values['node-label'] = labels;
  if (node.taints.length > 0) values['node-taint'] = [...node.taints].sort();
  if (node.role === 'server') {
    values['disable'] = ['servicelb'];
    const endpoint = inventory.cluster.apiEndpoint ? apiEndpointHost(inventory.cluster.apiEndpoint) : undefined;
    values['tls-san'] = unique([node.host, node.name, endpoint].filter((s): s is string => Boolean(s)));
    values['write-kubeconfig-mode'] = '0600';
    if (ctx.isFirstServer && (ctx.firstServerStart?.kind ?? 'cluster-init') === 'cluster-init') values['cluster-init'] = true;
  }
  if (!ctx.isFirstServer) values['server'] = serverUrl(ctx.firstServer);
  else if (ctx.firstServerStart?.kind === 'join') values['server'] = ctx.firstServerStart.server;
  return values;
}

export function renderK3sConfig(inventory: Inventory, node: InventoryNode, ctx: K3sConfigContext): string {
  return (
    '# Written by revue-pi from the inventory; edits here are drift and the next `revue-pi up` undoes them.\n' +
    dumpSorted(k3sConfigValues(inventory, node, ctx))
  );
}

export function dumpSorted(values: Record<string, unknown>): string {
  return yaml.dump(values, { sortKeys: true, lineWidth: -1, noRefs: true });
}

/**
 * Which top-level keys differ between a config.yaml found on a node and the one revue-pi would write
 * (sorted; for plan's "config.yaml differs: …"). A file that does not parse counts as every key differing.
 */
export function configDrift(found: string, wanted: string): string[] {
  const parse = (text: string): Record<string, unknown> | undefined => {
    try {
      const value = yaml.load(text);
      return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
    } catch {
      return undefined;
    }
  };
  const a = parse(found);
  const b = parse(wanted) ?? {};
  if (a === undefined) return Object.keys(b).sort();
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k])).sort();
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}
