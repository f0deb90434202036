import { join } from 'node:path';
import yaml from 'js-yaml';
import { readTextIfExists, writePrivateFile } from '../../core/state.js';

/**
 * What revue-pi keeps on the workstation about a node, and how a removed node is forgotten: the per-node state files
 * (k3s-versions.json, page-sizes.json: node name → facts) and the kubeconfig context, when it named the removed server.
 * The transforms are pure; forgetNodeInState and the command front write the files.
 */
export const NODE_STATE_FILES = ['k3s-versions.json', 'page-sizes.json'];

/** The JSON object without `key`; undefined when it has no such key or is not an object (then the file is left as it is). */
export function withoutKey(text: string | undefined, key: string): string | undefined {
  if (text === undefined) return undefined;
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc) || !(key in doc)) return undefined;
  const rest = { ...(doc as Record<string, unknown>) };
  delete rest[key];
  return JSON.stringify(rest, null, 2) + '\n';
}

/** The state files that still hold something of `node`. */
export function nodeStateFiles(stateDir: string, node: string): string[] {
  return NODE_STATE_FILES.filter((f) => withoutKey(readTextIfExists(join(stateDir, f)), node) !== undefined);
}

export function forgetNodeInState(stateDir: string, node: string): string[] {
  const changed: string[] = [];
  for (const f of NODE_STATE_FILES) {
    const next = withoutKey(readTextIfExists(join(stateDir, f)), node);
    if (next === undefined) continue;
    writePrivateFile(join(stateDir, f), next);
    changed.push(f);
  }
  return changed;
}

type Named = { name?: string; cluster?: { server?: string } & Record<string, unknown> };

/** The server URL of the kubeconfig's cluster entry named `clusterName` (what up merged); undefined when absent. */
export function kubeconfigServer(text: string | undefined, clusterName: string): string | undefined {
  if (!text) return undefined;
  try {
    const doc = yaml.load(text) as { clusters?: Named[] } | undefined;
    return doc?.clusters?.find((c) => c.name === clusterName)?.cluster?.server;
  } catch {
    return undefined;
  }
}

/** The kubeconfig with that cluster entry's server set to `server`; every other entry kept. */
export function repointKubeconfig(text: string, clusterName: string, server: string): string {
  const doc = yaml.load(text) as { clusters?: Named[] };
  const entry = doc.clusters?.find((c) => c.name === clusterName);
  if (!entry?.cluster) throw new Error(`the kubeconfig has no cluster named ${clusterName}`);
  entry.cluster.server = server;
  return yaml.dump(doc, { lineWidth: -1, noRefs: true });
}
