/** The first server's kubeconfig, fetched and merged into the operator's file. */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { RevuePiError } from '../core/errors.js';
import type { Inventory, InventoryNode } from '../core/inventory/schema.js';
import type { StepReport } from '../core/report.js';
import { readTextIfExists, writePrivateFile } from '../core/state.js';
import type { Transport } from '../core/remote/transport.js';
import { apiServerUrl } from './config.js';
import { mergeKubeconfig, resolveKubeconfigPath, rewriteKubeconfig } from './kubeconfig.js';
import { K3S_KUBECONFIG_PATH } from '../core/k3s-paths.js';
import { type ClusterPhaseOptions, type Session, PHASE, message } from './session.js';

/** Reads the server's kubeconfig (sudo), rewrites it and merges it into the operator's file (0600). */
export async function mergeKubeconfigFromServer(opts: ClusterPhaseOptions, first: Session): Promise<string | undefined> {
  const step: StepReport = { phase: PHASE, step: 'kubeconfig', status: 'unchanged', changes: [] };
  first.report.steps.push(step);
  const path = opts.kubeconfigPath ?? resolveKubeconfigPath(undefined, opts.env ?? process.env);
  try {
    // Unchanged first server: K3s has not rewritten k3s.yaml since the probe read it.
    const probed = first.changes.length === 0 ? first.k3s.kubeconfig : undefined;
    const ours =
      probed !== undefined
        ? rewriteKubeconfig(probed, { clusterName: opts.inventory.cluster.name, server: apiServerUrl(opts.inventory, first.node) })
        : await fetchClusterKubeconfig(opts.inventory, first.node, first.transport!);
    const existing = readTextIfExists(path);
    const merged = mergeKubeconfig(existing, ours, opts.inventory.cluster.name, path);
    if (merged !== existing) {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      writePrivateFile(path, merged);
      step.status = 'changed';
      step.changes.push(`merged context ${opts.inventory.cluster.name} into ${path}`);
      opts.log.write(`[${first.node.name}] merged context ${opts.inventory.cluster.name} into ${path}`);
    }
    opts.emit({
      type: 'node-step',
      phase: PHASE,
      node: first.node.name,
      step: 'kubeconfig',
      status: step.status === 'changed' ? 'changed' : 'unchanged',
      detail: path,
    });
    return path;
  } catch (error) {
    const text = `the kubeconfig could not be merged into ${path}: ${message(error)}`;
    step.status = 'failed';
    step.error = text;
    first.report.error = text;
    opts.log.write(`[${first.node.name}] ${text}`);
    opts.emit({ type: 'node-step', phase: PHASE, node: first.node.name, step: 'kubeconfig', status: 'failed', detail: text });
    return undefined;
  }
}

/** The first server's kubeconfig, renamed to the cluster and pointed at the API address. Holds a client key: never log it. */
export async function fetchClusterKubeconfig(inventory: Inventory, firstServer: InventoryNode, transport: Transport): Promise<string> {
  const raw = await transport.readFile(K3S_KUBECONFIG_PATH, { sudo: true });
  if (!raw) {
    throw new RevuePiError(`first server ${firstServer.name} has no ${K3S_KUBECONFIG_PATH}: K3s is not installed or has not started there.`, {
      code: 'KUBECONFIG',
      node: firstServer.name,
      hint: 'Run `revue-pi up` first.',
    });
  }
  return rewriteKubeconfig(raw.toString('utf8'), { clusterName: inventory.cluster.name, server: apiServerUrl(inventory, firstServer) });
}
