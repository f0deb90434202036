import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { RevuePiError } from '../../core/errors.js';
import { loadInventoryForCommand } from '../../core/inventory/for-command.js';
import { withCommandLock } from '../../core/lock.js';
import { RunLog } from '../../core/log.js';
import { EXIT_BAD_INPUT, EXIT_NODE_FAILED, EXIT_OK } from '../../core/report.js';
import { ensurePrivateDir, readTextIfExists, stateDirFor, writePrivateFile } from '../../core/state.js';
import type { Transport } from '../../core/remote/transport.js';
import { firstServerOf } from '../../cluster/config.js';
import { mergeKubeconfig, resolveKubeconfigPath } from '../../cluster/kubeconfig.js';
import { fetchClusterKubeconfig } from '../../cluster/kubeconfig-merge.js';
import { resolveNodesSsh, streamsOf, type CommandSeams } from './day-two-front.js';

/**
 * `revue-pi kubeconfig`: fetches the cluster's kubeconfig from the first server (over SSH, sudo), renamed to
 * the cluster and pointed at its API address. Prints it on stdout, or with --write (implied by --kubeconfig)
 * merges it into the kubeconfig file (KUBECONFIG's first path, else ~/.kube/config) with mode 0600.
 */
export interface KubeconfigCommandOptions extends CommandSeams {
  inventory: string;
  kubeconfig?: string;
  write?: boolean;
  stateDir?: string;
  /** Seam for tests; default: the process's environment. */
  env?: NodeJS.ProcessEnv;
}

export async function runKubeconfigCommand(opts: KubeconfigCommandOptions): Promise<number> {
  const streams = streamsOf(opts);
  const { out, err } = streams;
  const env = opts.env ?? process.env;

  const loaded = loadInventoryForCommand(opts.inventory, { out, err, env });
  if (!loaded) return EXIT_BAD_INPUT;
  // From here on each node's host is the address SSH reaches it at.
  const ssh = resolveNodesSsh(loaded.inventory, { inventory: opts.inventory, env }, streams);
  if (!ssh) return EXIT_BAD_INPUT;
  const { inventory } = ssh;
  const first = firstServerOf(inventory);
  if (!first) {
    err(`The inventory ${opts.inventory} has no node with role: server, so there is no cluster to fetch a kubeconfig from.\n`);
    return EXIT_BAD_INPUT;
  }

  const stateDir = ensurePrivateDir(stateDirFor(inventory.cluster.name, opts.stateDir, env));
  const log = new RunLog(stateDir, 'kubeconfig');
  let ours: string;
  let transport: Transport | undefined;
  try {
    const open = opts.openTransport ?? (await import('../../core/connect.js')).transportOpener(inventory, { log, env, ssh: ssh.nodes });
    transport = await open(first);
    ours = await fetchClusterKubeconfig(inventory, first, transport);
  } catch (error) {
    const text = error instanceof RevuePiError && error.hint ? `${error.message} ${error.hint}` : error instanceof Error ? error.message : String(error);
    log.write(`kubeconfig failed: ${text}`);
    err(`${text}\n`);
    return EXIT_NODE_FAILED;
  } finally {
    await transport?.close().catch(() => undefined);
  }

  if (!opts.write && opts.kubeconfig === undefined) {
    out(ours);
    return EXIT_OK;
  }
  const path = resolveKubeconfigPath(opts.kubeconfig, env);
  // Merging writes the kubeconfig `up` writes too: one run at a time per cluster.
  return withCommandLock(stateDir, inventory.cluster.name, 'kubeconfig --write', { out, err }, async () => {
    try {
      const existing = readTextIfExists(path);
      const merged = mergeKubeconfig(existing, ours, inventory.cluster.name, path);
      if (merged === existing) {
        err(`${path} already holds the current kubeconfig of ${inventory.cluster.name}; nothing to change.\n`);
      } else {
        mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
        writePrivateFile(path, merged);
        log.write(`merged context ${inventory.cluster.name} into ${path}`);
        err(`Merged context ${inventory.cluster.name} into ${path} (mode 0600). Use it with: kubectl --context ${inventory.cluster.name} get nodes\n`);
      }
      return EXIT_OK;
    } catch (error) {
      err(`${error instanceof Error ? error.message : String(error)} Fix or move ${path}, or pass --kubeconfig PATH.\n`);
      return EXIT_NODE_FAILED;
    }
  });
}
