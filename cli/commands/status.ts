import { RevuePiError, formatIssue, trimOutput } from '../../core/errors.js';
import { transportOpener } from '../../core/connect.js';
import { resolveSshOrReport } from '../../core/ssh-config/report.js';
import { loadInventoryForCommand } from '../../core/inventory/for-command.js';
import type { Inventory, InventoryNode } from '../../core/inventory/schema.js';
import { RunLog } from '../../core/log.js';
import { probeNodeState } from '../../pipeline/pipeline.js';
import { EXIT_BAD_INPUT } from '../../core/report.js';
import { ensurePrivateDir, stateDirFor } from '../../core/state.js';
import type { Transport } from '../../core/remote/transport.js';
import { readFileSync } from 'node:fs';
import yaml from 'js-yaml';
import { KubectlError, LocalKubectl, RemoteKubectl, type Kubectl } from '../../core/kube/index.js';
import { clusterObjectsOf, clusterStatusQuery, isMissingTypeError } from '../status/cluster.js';
import { resolveKubeconfigPath } from '../../cluster/kubeconfig.js';
import { formatStatus } from '../status/format.js';
import { buildStatusReport, type ClusterRead, type NodeProbe } from '../status/report.js';
import { renderWorkloads, type K8sObject } from '../../workloads/render.js';
import { readK3sVersionCache } from '../../cluster/facts.js';
import { readPageSizeCache } from '../../provision/page-size-cache.js';
import { stripControlChars } from '../../core/remote/remote-text.js';

export interface StatusOptions {
  inventory: string;
  json?: boolean;
  stateDir?: string;
  /** Where the table goes (stdout). */
  out?: NodeJS.WritableStream;
  /** The kubeconfig `up` merged into (default: first path of KUBECONFIG, else ~/.kube/config). */
  kubeconfig?: string;
  /** Where the local `kubectl` is looked up (default: PATH). */
  env?: NodeJS.ProcessEnv;
  /** Seam for unit tests (HA fallbacks the lab's stand-in cannot show): opens a node's transport. Default: SSH. */
  openTransport?: (node: InventoryNode) => Promise<Transport>;
  /** Seam for unit tests: the kubectl a server's transport runs (default: `k3s kubectl` through it, RemoteKubectl). */
  kubectlOn?: (transport: Transport) => Kubectl;
}

const KUBECTL_TIMEOUT_MS = 30_000;
const PROBE_TIMEOUT_MS = 30_000;

/**
 * `revue-pi status`: read-only. Every node is reached and probed at the same time (one round trip each, the same
 * probe as `up`), and the cluster is read with ONE `k3s kubectl get … -A -o json` on the first server — started as
 * soon as that server's connection is open; another server is asked only when the first cannot answer. Exit 0 when
 * nothing is wrong, 1 when something is (an unreachable node, a node not Ready, a workload not ready), 2 on bad input.
 */
export async function runStatusCommand(opts: StatusOptions): Promise<number> {
  const out = opts.out ?? process.stdout;
  const loaded = loadInventoryForCommand(opts.inventory, { json: opts.json, out: (text) => void out.write(text), env: opts.env ?? process.env });
  if (!loaded) return EXIT_BAD_INPUT;
  const inventoryWarnings = loaded.warnings.map((w) => formatIssue(opts.inventory, w).trim());
  if (!opts.json) for (const w of inventoryWarnings) process.stderr.write(`warning: ${w}\n`);
  // Node hosts may be ~/.ssh/config aliases: from here on each node's host is the address SSH reaches it at.
  const ssh = resolveSshOrReport(loaded.inventory, {
    inventory: opts.inventory,
    json: opts.json,
    out: (text) => void out.write(text),
    ...(opts.env ? { env: opts.env } : {}),
  });
  if (!ssh) return EXIT_BAD_INPUT;
  const inventory: Inventory = ssh.inventory;
  let rendered: K8sObject[];
  try {
    rendered = renderWorkloads(inventory, { secrets: 'references' });
  } catch (error) {
    if (error instanceof RevuePiError) {
      const text = `${error.message}${error.hint ? ` ${error.hint}` : ''}`;
      if (opts.json) out.write(JSON.stringify({ ok: false, exitCode: EXIT_BAD_INPUT, error: { file: opts.inventory, message: text } }, null, 2) + '\n');
      else process.stderr.write(`${opts.inventory}: ${text}\n`);
      return EXIT_BAD_INPUT;
    }
    throw error;
  }

  const stateDir = ensurePrivateDir(stateDirFor(inventory.cluster.name, opts.stateDir));
  const log = new RunLog(stateDir, 'status');
  log.write(`revue-pi status -i ${opts.inventory} (${inventory.nodes.length} nodes)`);
  for (const w of inventoryWarnings) log.write(`inventory warning: ${w}`);
  for (const warning of ssh.warnings) {
    log.write(`warning: ${warning}`);
    if (!opts.json) process.stderr.write(`  ! ${warning}\n`);
  }
  const open = opts.openTransport ?? transportOpener(inventory, { log, ssh: ssh.nodes });
  const kubectlOn = opts.kubectlOn ?? ((transport: Transport) => new RemoteKubectl(transport, { timeoutMs: KUBECTL_TIMEOUT_MS }));
  // What `up` recorded about each node's k3s binary: an unchanged binary is not run just to print its version.
  const versions = readK3sVersionCache(stateDir);
  // And the page size each node's boot had: not asked of getconf again in the same boot.
  const pageSizes = readPageSizeCache(stateDir);
  const servers = inventory.nodes.filter((n) => n.role === 'server');
  const transports = new Map<string, Transport>();
  const probes = new Map<string, NodeProbe>();
  const readErrors: string[] = [];
  // The API through the merged kubeconfig, when this computer has kubectl and reaches it; else SSH to a server.
  const localRead = readClusterLocally(inventory, resolveKubeconfigPath(opts.kubeconfig, opts.env ?? process.env), opts.env ?? process.env, readErrors, log);
  let firstRead: Promise<ClusterRead | undefined> | undefined;

  try {
    await Promise.all(
      inventory.nodes.map(async (node) => {
        try {
          const transport = await open(node);
          transports.set(node.name, transport);
          // The first server reads the cluster while it (and every other node) is probed.
          if (node === servers[0]) firstRead = localRead.then((local) => local ?? readCluster(node, kubectlOn(transport), inventory, readErrors, log));
          const state = await withTimeout(
            probeNodeState(transport, versions[node.name], { pageSizeOfBoot: pageSizes[node.name] }),
            PROBE_TIMEOUT_MS,
            `the probe took longer than ${PROBE_TIMEOUT_MS / 1000} s; check the node's load and disk, then run status again`,
          );
          probes.set(node.name, { facts: state.facts, k3s: state.k3s });
        } catch (error) {
          probes.set(node.name, { error: describe(error) });
          log.write(`[${node.name}] not reachable: ${describe(error)}`);
        }
      }),
    );

    let cluster: ClusterRead | undefined = firstRead ? await firstRead : await localRead;
    if (!cluster && servers[0] && !transports.has(servers[0].name)) readErrors.push(`${servers[0].name}: not reachable`);
    for (const server of servers.slice(1)) {
      if (cluster) break;
      const transport = transports.get(server.name);
      if (!transport) {
        readErrors.push(`${server.name}: not reachable`);
        continue;
      }
      cluster = await readCluster(server, kubectlOn(transport), inventory, readErrors, log);
    }
    if (!cluster) {
      cluster = {
        error:
          servers.length === 0
            ? 'The inventory has no server node, so the cluster could not be read.'
            : `The cluster could not be read over SSH from any server (${readErrors.join('; ')}); node readiness and workloads are unknown.`,
      };
    }

    const report = buildStatusReport({ inventory, probes, cluster, rendered });
    log.write(`finished: exit ${report.exitCode}; ${report.problems.length} problem(s)`);
    for (const p of report.problems) log.write(`problem: ${p}`);
    out.write(
      log.mask(opts.json ? JSON.stringify({ ...report, inventoryWarnings: loaded.warnings }, null, 2) : stripControlChars(formatStatus(report, 100))) + '\n',
    );
    return report.exitCode;
  } finally {
    await Promise.all([...transports.values()].map((t) => t.close().catch(() => undefined)));
  }
}

/** One `k3s kubectl get … -A -o json` on a server; undefined (with the reason in `errors`) when it cannot answer. */
async function readCluster(node: InventoryNode, kubectl: Kubectl, inventory: Inventory, errors: string[], log: RunLog): Promise<ClusterRead | undefined> {
  try {
    return { server: node.name, objects: clusterObjectsOf(await readWithoutMissingPools(kubectl, inventory, log, {})) };
  } catch (error) {
    errors.push(
      error instanceof KubectlError ? `${node.name}: k3s kubectl exited ${error.code}: ${trimOutput(error.output, 2)}` : `${node.name}: ${describe(error)}`,
    );
    return undefined;
  }
}

/** The one read; again without MetalLB's pools when kubectl says their type is not installed. */
async function readWithoutMissingPools(kubectl: Kubectl, inventory: Inventory, log: RunLog, query: { requestTimeoutSeconds?: number }) {
  const pools = inventory.network.metallb.enabled;
  try {
    return await kubectl.get(clusterStatusQuery({ pools, ...query }));
  } catch (error) {
    if (!(pools && error instanceof KubectlError && isMissingTypeError(error.output))) throw error;
    log.write(`[${kubectl.where}] MetalLB's pool type is not installed; reading without it`);
    return kubectl.get(clusterStatusQuery({ pools: false, ...query }));
  }
}

/**
 * One `kubectl get … -A -o json` from this computer with the cluster's context in the merged kubeconfig; undefined
 * (the reason in `errors`) when there is no kubectl, no such context, or the API does not answer in time.
 */
async function readClusterLocally(
  inventory: Inventory,
  kubeconfig: string,
  env: NodeJS.ProcessEnv,
  errors: string[],
  log: RunLog,
): Promise<ClusterRead | undefined> {
  const context = inventory.cluster.name;
  let hasContext = false;
  try {
    const config = yaml.load(readFileSync(kubeconfig, 'utf8')) as { contexts?: { name?: string }[] } | undefined;
    hasContext = (config?.contexts ?? []).some((c) => c?.name === context);
  } catch {
    hasContext = false;
  }
  if (!hasContext) return undefined;
  const kubectl = new LocalKubectl({ kubeconfig, context, env, timeoutMs: 10_000 });
  try {
    return { server: kubectl.where, context, objects: clusterObjectsOf(await readWithoutMissingPools(kubectl, inventory, log, { requestTimeoutSeconds: 5 })) };
  } catch (error) {
    if (error instanceof KubectlError) {
      log.write(`the API was not read through ${kubeconfig} (context ${context}): ${trimOutput(error.output, 2)}; reading over SSH`);
      errors.push(`this computer (kubeconfig ${kubeconfig}, context ${context}): ${trimOutput(error.output, 1)}`);
    } else errors.push(`this computer: ${describe(error)}`);
    return undefined;
  }
}

function describe(error: unknown): string {
  if (error instanceof RevuePiError) return error.hint ? `${error.message} ${error.hint}` : error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}.`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
