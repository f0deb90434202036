import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import yaml from 'js-yaml';
import { RevuePiError } from '../core/errors.js';

/**
 * The kubeconfig K3s writes on a server, made usable from the laptop: its `default` cluster/user/context
 * renamed to the cluster's name and pointed at the server, then merged into the operator's kubeconfig
 * without touching anyone else's entries.
 */
type Named = { name: string; [key: string]: unknown };
interface KubeconfigDoc {
  apiVersion?: string;
  kind?: string;
  clusters?: Named[];
  users?: Named[];
  contexts?: Named[];
  'current-context'?: string;
  [key: string]: unknown;
}

const DUMP: yaml.DumpOptions = { lineWidth: -1, noRefs: true };

function parseDoc(text: string, what: string): KubeconfigDoc {
  let value: unknown;
  try {
    value = yaml.load(text);
  } catch (error) {
    throw new RevuePiError(`${what} is not valid YAML: ${(error as Error).message.split('\n')[0]}`, { code: 'KUBECONFIG', cause: error });
  }
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value))
    throw new RevuePiError(`${what} is not a kubeconfig (expected a mapping with clusters, users and contexts).`, { code: 'KUBECONFIG' });
  const doc = value as KubeconfigDoc;
  for (const key of ['clusters', 'users', 'contexts'] as const) {
    const list = doc[key];
    if (
      list !== undefined &&
      list !== null &&
      (!Array.isArray(list) || list.some((e) => !e || typeof e !== 'object' || typeof (e as Named).name !== 'string'))
    ) {
      throw new RevuePiError(`${what} has a malformed "${key}" list (every entry needs a name).`, { code: 'KUBECONFIG' });
    }
    if (list === null) delete doc[key];
  }
  return doc;
}

/** Renames the single cluster/user/context of a K3s kubeconfig to `clusterName` and sets its server URL. */
export function rewriteKubeconfig(k3sYaml: string, opts: { clusterName: string; server: string }): string {
  const doc = parseDoc(k3sYaml, 'The K3s kubeconfig');
  const cluster = doc.clusters?.[0];
  const user = doc.users?.[0];
  const context = doc.contexts?.[0];
  if (!cluster || !user || !context) throw new RevuePiError('The K3s kubeconfig lacks a cluster, user or context entry.', { code: 'KUBECONFIG' });
  const name = opts.clusterName;
  const out: KubeconfigDoc = {
    apiVersion: doc.apiVersion ?? 'v1',
    kind: doc.kind ?? 'Config',
    clusters: [{ name, cluster: { ...(cluster.cluster as object), server: opts.server } }],
    users: [{ name, user: user.user }],
    contexts: [{ name, context: { ...(context.context as object), cluster: name, user: name } }],
    'current-context': name,
    preferences: doc.preferences ?? {},
  };
  return yaml.dump(out, DUMP);
}

/**
 * Merges `ours` (a rewritten kubeconfig) into an existing kubeconfig: entries named `clusterName` are
 * replaced in place (appended when new); every other entry and key stays as it was; current-context is
 * kept unless it was unset. Merging the same thing twice gives the same text.
 */
export function mergeKubeconfig(existing: string | undefined, ours: string, clusterName: string, file = 'The kubeconfig'): string {
  const base = existing === undefined || existing.trim() === '' ? {} : parseDoc(existing, file);
  const add = parseDoc(ours, 'The cluster kubeconfig');
  const merged: KubeconfigDoc = { apiVersion: 'v1', kind: 'Config', ...base };
  for (const key of ['clusters', 'users', 'contexts'] as const) {
    const entry = add[key]?.find((e) => e.name === clusterName);
    if (!entry) throw new RevuePiError(`The cluster kubeconfig has no ${key.slice(0, -1)} named ${clusterName}.`, { code: 'KUBECONFIG' });
    const list = [...(base[key] ?? [])];
    const at = list.findIndex((e) => e.name === clusterName);
    if (at === -1) list.push(entry);
    else list.splice(at, 1, entry);
    merged[key] = list.filter((e, i) => e.name !== clusterName || i === list.findIndex((x) => x.name === clusterName));
  }
  if (!merged['current-context']) merged['current-context'] = clusterName;
  if (merged.preferences === undefined) merged.preferences = {};
  return yaml.dump(merged, DUMP);
}

/** The entries named `clusterName` that up merged into the kubeconfig: "context", "cluster", "user" (in that order). */
export function mergedEntries(text: string | undefined, clusterName: string, file = 'The kubeconfig'): string[] {
  if (text === undefined || text.trim() === '') return [];
  const doc = parseDoc(text, file);
  return (['contexts', 'clusters', 'users'] as const).filter((key) => doc[key]?.some((e) => e.name === clusterName)).map((key) => key.slice(0, -1));
}

/**
 * The kubeconfig without the context, cluster and user named `clusterName` (what mergeKubeconfig added); every other
 * entry and key kept. A current-context naming it is removed (kubectl then asks for a context, as it does after
 * `kubectl config delete-context`).
 */
export function unmergeKubeconfig(text: string, clusterName: string, file = 'The kubeconfig'): string {
  const doc = parseDoc(text, file);
  for (const key of ['clusters', 'users', 'contexts'] as const) {
    if (doc[key]) doc[key] = doc[key].filter((e) => e.name !== clusterName);
  }
  if (doc['current-context'] === clusterName) delete doc['current-context'];
  return yaml.dump(doc, DUMP);
}

/** `--kubeconfig` wins, then the first path in KUBECONFIG (as kubectl writes to it), then ~/.kube/config. */
export function resolveKubeconfigPath(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const home = env.HOME || homedir();
  const expand = (p: string) => (p === '~' ? home : p.startsWith('~/') ? join(home, p.slice(2)) : p);
  if (flag) return expand(flag);
  const first = (env.KUBECONFIG ?? '').split(delimiter).find((p) => p.trim() !== '');
  if (first) return expand(first.trim());
  return join(home, '.kube', 'config');
}
