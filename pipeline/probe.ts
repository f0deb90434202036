import { RevuePiError } from '../core/errors.js';
import type { NodeFacts } from '../core/node-facts.js';
import type { StepReport } from '../core/report.js';
import { buildProbeScript, parseProbeOutput } from '../core/remote/probe.js';
import type { Transport } from '../core/remote/transport.js';
import { ROOT_PROBE_REFUSED_EXIT, type K3sFacts, type K3sVersionCacheEntry } from '../cluster/facts.js';
import { clusterStep, type ClusterProbeTarget } from '../cluster/step.js';
import type { BootPageSize } from '../provision/facts.js';
import { freshPiFacts } from '../provision/fresh.js';
import { provisionStep } from '../provision/step.js';
import { workloadsStep, type WorkloadsProbeTarget } from '../workloads/step.js';
import type { RunOptions } from './options.js';
import type { NodeSession } from './session.js';

/**
 * The probe: every stage's sections for a node (core/step.ts) in ONE command, each stage reading its own facts from the
 * answer. What a stage learns here the later phases use instead of asking again.
 */

export interface ProbeStateOptions {
  /** Also read the kubeconfig and the node list (firstServerProbeSections). */
  firstServer?: boolean;
  /** Also run the workloads fast check (first server); its Node items then stand for the node list. */
  workloads?: WorkloadsProbeTarget;
  /**
   * Run as the login user, not under sudo: the root-only files are read only when their fingerprint differs from the
   * cached one (k3sProbeSections). Needs `cachedVersion.files`; a refused `sudo -n` means one more probe, with sudo.
   */
  withoutRoot?: boolean;
  /** The page size read in the node's boot last time: answered without getconf while that boot lasts (pageSizeSection). */
  pageSizeOfBoot?: BootPageSize;
}

export interface ProbedNode {
  facts: NodeFacts;
  k3s: K3sFacts;
  fastCheckOutput?: string;
}

/** Everything `up` needs to know about a node, boot and K3s alike (and, on the first server, the workloads), in one round trip. */
export async function probeNodeState(transport: Transport, cachedVersion?: K3sVersionCacheEntry, opts: ProbeStateOptions = {}): Promise<ProbedNode> {
  const withoutRoot = opts.withoutRoot === true && cachedVersion?.files !== undefined;
  const provisionTarget = { pageSizeOfBoot: opts.pageSizeOfBoot };
  const clusterTarget: ClusterProbeTarget = {
    cachedVersion,
    withoutRoot,
    ...(opts.firstServer ? { firstServer: { nodesReadElsewhere: opts.workloads !== undefined } } : {}),
  };
  const sections = [
    ...provisionStep.probe.sections(provisionTarget),
    ...clusterStep.probe.sections(clusterTarget),
    ...(opts.workloads ? workloadsStep.probe.sections(opts.workloads) : []),
  ];
  const result = await transport.run(buildProbeScript(sections), { sudo: !withoutRoot });
  if (withoutRoot && result.code === ROOT_PROBE_REFUSED_EXIT) return probeNodeState(transport, cachedVersion, { ...opts, withoutRoot: false });
  if (result.code !== 0) {
    // Not stdout: on the first server it may hold the kubeconfig's client key.
    throw new RevuePiError(`Probing node ${transport.nodeName} failed (exit ${result.code}): ${result.stderr.trim() || 'it printed no error'}`, {
      code: 'PROBE',
      node: transport.nodeName,
    });
  }
  const answer = parseProbeOutput(result.stdout);
  const facts = provisionStep.probe.read(answer);
  const k3s = clusterStep.probe.read(answer, clusterTarget);
  if (!opts.workloads) return { facts, k3s };
  const { fastCheckOutput, apiNodesJson } = workloadsStep.probe.read(answer, opts.workloads);
  return {
    facts,
    k3s: apiNodesJson !== undefined ? { ...k3s, apiNodesJson } : k3s,
    ...(fastCheckOutput !== undefined ? { fastCheckOutput } : {}),
  };
}

export async function probeFacts(transport: Transport): Promise<NodeFacts> {
  return (await probeNodeState(transport)).facts;
}

/** What the first server's probe carries beyond every node's: the workloads fast check, when it will be used. */
export interface ProbeExtras {
  firstServer?: string;
  /** up --reapply: every probe reads the files again (as root). */
  reapply?: boolean;
  /** Rendered on first use: once the first server is connected, while the other handshakes are still under way. */
  workloads?: () => WorkloadsProbeTarget;
}

/** The probe options for a session: the caches from the last run, and the first server's extra sections. */
export function probeOptionsFor(s: NodeSession, extras: ProbeExtras): ProbeStateOptions {
  const pageSize = s.pageSizeOfBoot && !extras.reapply ? { pageSizeOfBoot: s.pageSizeOfBoot } : {};
  // Other nodes: without sudo while their root-only files are as the last run read them (RootFilesCache).
  if (s.node.name !== extras.firstServer) return s.cachedK3sVersion?.files && !extras.reapply ? { withoutRoot: true, ...pageSize } : pageSize;
  return { firstServer: true, ...pageSize, ...(extras.workloads ? { workloads: extras.workloads() } : {}) };
}

/** Connects (once for the whole run), probes, checks the node and plans its preparation; recorded on the session. */
export async function probeNode(
  opts: RunOptions,
  s: NodeSession,
  extras: ProbeExtras,
  hooks: { connected?: () => void; beforeProbe?: () => Promise<void> | undefined } = {},
): Promise<void> {
  const { emit, inventory } = opts;
  const node = s.node;
  if (opts.openTransport) {
    emit({ type: 'node-step', phase: 'probe', node: node.name, step: 'connect', status: 'running' });
    s.transport = await opts.openTransport(node);
    hooks.connected?.();
    await hooks.beforeProbe?.();
    emit({ type: 'node-step', phase: 'probe', node: node.name, step: 'facts', status: 'running' });
    const probed = await probeNodeState(s.transport, s.cachedK3sVersion, probeOptionsFor(s, extras));
    s.facts = probed.facts;
    s.k3s = probed.k3s;
    s.fastCheckOutput = probed.fastCheckOutput;
  } else {
    s.facts = freshPiFacts(node);
  }
  const facts = s.facts;
  s.report.facts = {
    model: facts.model,
    os: facts.os.prettyName,
    arch: facts.arch,
    kernel: facts.kernel,
    pageSize: facts.pageSize,
    memoryBytes: facts.memoryBytes,
    memoryCgroup: facts.memoryCgroupActive,
  };
  const target = { node, inventory, strict: opts.strict };
  const checks = provisionStep.check(facts, target);
  for (const check of checks.filter((c) => c.severity === 'warning')) {
    s.report.warnings.push(check.message);
    emit({ type: 'node-warning', node: node.name, message: check.message });
  }
  const errors = checks.filter((c) => c.severity === 'error');
  if (errors.length > 0) throw new RevuePiError(errors.map((e) => e.message).join(' '), { code: 'NODE_CHECK', node: node.name });

  s.prepareChanges = provisionStep.plan(facts, target);
  const step: StepReport = {
    phase: 'prepare',
    step: 'boot-config',
    status: s.prepareChanges.length === 0 ? 'unchanged' : opts.command === 'plan' ? 'planned' : 'unchanged',
    changes: opts.command === 'plan' ? s.prepareChanges.map(provisionStep.describe) : [],
  };
  s.report.steps.push(step);
  const assumed = opts.openTransport ? '' : 'assumed (offline): ';
  emit({
    type: 'node-step',
    phase: 'probe',
    node: node.name,
    step: 'facts',
    status: 'done',
    detail: `${assumed}${facts.model || 'unknown model'}, ${facts.os.prettyName || 'unknown OS'}, ${(facts.memoryBytes / 1024 ** 3).toFixed(1)} GiB`,
  });
}

/**
 * Whether the other nodes are dialled only once the first server is connected (a fresh or growing cluster: its
 * install is what they wait for). Where every node ran K3s last time — a re-run, most likely with nothing to
 * prepare — all are dialled at once: a head start for the first server then only delays the others (measured).
 */
export function othersWaitForFirstServer(nodes: { name: string; ranK3sBefore: boolean }[], firstServer: string | undefined, online: boolean): boolean {
  if (!online || firstServer === undefined || !nodes.some((n) => n.name === firstServer)) return false;
  return !nodes.every((n) => n.ranK3sBefore);
}
