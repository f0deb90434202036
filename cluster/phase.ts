import { readFile } from 'node:fs/promises';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { RemoteCommandError, RevuePiError, trimOutput } from '../core/errors.js';
import type { EmitEvent } from '../core/events.js';
import type { Inventory, InventoryNode } from '../core/inventory/schema.js';
import type { RunLog } from '../core/log.js';
import type { NodeReport, StepReport } from '../core/report.js';
import { forEachNode } from '../core/runner.js';
import { readTextIfExists, writePrivateFile } from '../core/state.js';
import type { FileToWrite, RunResult, Transport } from '../core/remote/transport.js';
import { sh } from '../core/remote/shell.js';
import { apiServerUrl, firstServerOf } from './config.js';

export { apiServerUrl } from './config.js';
import { buildProbeScript, parseProbeOutput, type ProbeSection } from '../core/remote/probe.js';
import { k3sProbeSections, parseK3sFacts, updateK3sVersionCache, type K3sFacts } from './facts.js';
import { airgapUploads, buildInstallScript, wantedK3sVersion } from './install.js';
import { mergeKubeconfig, resolveKubeconfigPath, rewriteKubeconfig } from './kubeconfig.js';
import {
  GET_NODES_COMMAND,
  buildForgetNodeScript,
  buildJournalCommand,
  buildRestartCommand,
  isNodePasswordRejected,
  joinRefusal,
  parseNodesReady,
  readySince,
  restartedAt,
  type NodeReadiness,
} from './nodes.js';
import { K3S_CONFIG_PATH, K3S_KUBECONFIG_PATH, NODE_PASSWORD_PATH, SERVER_TOKEN_PATH, TOKEN_FILE_PATH, unitFor } from '../core/k3s-paths.js';
import { checkClusterNode, describeClusterChange, planClusterNode, registrationOnlyWarning, tokenMatchesServer, type ClusterChange } from './plan.js';
import { generateToken, readStateToken, sha256Hex, tokenFileContent, tokenSecret, type RandomSource } from './token.js';
import { stripControlChars } from '../core/remote/remote-text.js';

/**
 * The cluster phase of `up`/`plan`: K3s on every node, in order — the first server, then the other servers
 * one at a time (etcd quorum), then the agents in parallel — then a bounded wait until every node is Ready,
 * then the kubeconfig. It may start while nodes are still being prepared: each node waits for its own `ready`.
 * Everything goes through each node's one transport; the Kubernetes API is reached with `k3s kubectl` on the first
 * server. Failures are per node and recorded in the node's report; nothing throws for one node.
 */
export interface ClusterNodeInput {
  node: InventoryNode;
  /** Absent for `plan --offline`. */
  transport?: Transport;
  k3s: K3sFacts;
  report: NodeReport;
  /**
   * Resolves once the node is ready for K3s (its preparation, reboot included, is done), with its K3s facts as probed
   * then; undefined when its preparation failed (it is then left out). Absent: ready now, with `k3s`.
   */
  ready?: Promise<K3sFacts | undefined>;
}

export interface ClusterPhaseOptions {
  command: 'up' | 'plan';
  inventory: Inventory;
  stateDir: string;
  concurrency: number;
  emit: EmitEvent;
  log: RunLog;
  /** Every inventory node; those whose report already has an error are left alone. */
  nodes: ClusterNodeInput[];
  /** Where the kubeconfig is merged; default: KUBECONFIG's first path, else ~/.kube/config. */
  kubeconfigPath?: string;
  readyTimeoutMs: number;
  /** Seams for tests: token randomness, polling cadence, the environment used to resolve the kubeconfig path. */
  random?: RandomSource;
  pollIntervalMs?: number;
  journalCheckIntervalMs?: number;
  env?: NodeJS.ProcessEnv;
}

export interface ClusterPhaseResult {
  firstServer?: string;
  /** Where the cluster token came from this run. */
  token?: 'state' | 'recovered' | 'generated' | 'none-yet';
  kubeconfigPath?: string;
  /**
   * The node list (`kubectl get nodes -o json`) that showed every node Ready at the end of the phase: the workloads
   * phase labels nodes from it instead of asking again. Not for the report.
   */
  readyNodesJson?: string;
}

const PHASE = 'cluster';
const STEP = 'k3s';

interface Session extends ClusterNodeInput {
  step: StepReport;
  changes: ClusterChange[];
  /** Its preparation failed while this phase ran: not part of it. */
  leftOut?: boolean;
  /** The node-password rejection was handled once already this run. */
  passwordFixed?: boolean;
  /** When this run restarted its K3s, by the node's clock: only a heartbeat since then counts as Ready. */
  restartedAt?: number;
}

export async function runClusterPhase(opts: ClusterPhaseOptions): Promise<ClusterPhaseResult> {
  const { emit } = opts;
  emit({ type: 'phase-start', phase: PHASE, title: opts.command === 'up' ? 'Installing K3s and joining the nodes' : 'Planning K3s on the nodes' });
  const result: ClusterPhaseResult = {};
  const sessions: Session[] = opts.nodes
    .filter((n) => !n.report.error)
    .map((n) => {
      const step: StepReport = { phase: PHASE, step: STEP, status: 'unchanged', changes: [] };
      n.report.steps.push(step);
      return { ...n, step, changes: [] };
    });
  try {
    await runSessions(opts, sessions, result);
  } catch (error) {
    // Only a bug gets here; still, every node gets an answer.
    for (const s of sessions) if (!s.report.error) fail(opts, s, `the cluster phase stopped: ${message(error)}`);
  }
  // A node that failed elsewhere meanwhile (its preparation) took no part: no cluster step for it.
  for (const s of sessions.filter((x) => x.leftOut)) s.report.steps.splice(s.report.steps.indexOf(s.step), 1);
  if (opts.command === 'up') {
    // Lets the next probe skip `k3s --version` where the binary is unchanged; an optimisation, never a failure.
    try {
      updateK3sVersionCache(
        opts.stateDir,
        sessions.filter((s) => s.transport).map((s) => ({ name: s.node.name, facts: s.k3s })),
      );
    } catch (error) {
      opts.log.write(`could not update the K3s version cache: ${message(error)}`);
    }
  }
  emit({ type: 'phase-end', phase: PHASE, ok: sessions.every((s) => s.leftOut || !s.report.error) });
  return result;
}

/**
 * Waits until the node is prepared and takes its K3s facts from then. False when it cannot take part: its preparation
 * failed (left out), or this phase already failed it.
 */
async function whenReady(s: Session): Promise<boolean> {
  if (s.ready) {
    const k3s = await s.ready;
    if (k3s === undefined) {
      s.leftOut = true;
      return false;
    }
    s.k3s = k3s;
  }
  // Failed elsewhere while this phase waited (not by this phase, which marks its step failed).
  if (s.report.error !== undefined && s.step.status !== 'failed') s.leftOut = true;
  return !s.report.error;
}

async function runSessions(opts: ClusterPhaseOptions, sessions: Session[], result: ClusterPhaseResult): Promise<void> {
  const { inventory } = opts;
  const firstNode = firstServerOf(inventory);
  if (!firstNode) {
    for (const s of sessions) fail(opts, s, 'the inventory has no node with role: server; give one node role: server.');
    return;
  }
  result.firstServer = firstNode.name;
  const firstInput = opts.nodes.find((n) => n.node.name === firstNode.name);
  const first = sessions.find((s) => s.node.name === firstNode.name);
  const others = sessions.filter((s) => s !== first);
  const cascade = (why: string) => {
    for (const s of others) if (!s.report.error && !s.leftOut) fail(opts, s, `first server ${firstNode.name} failed: ${why}`);
  };
  if (!first) {
    cascade(firstInput?.report.error ?? 'it was not reached');
    return;
  }
  if (opts.command === 'up' && !first.transport) {
    fail(opts, first, 'no connection to it');
    cascade('no connection to it');
    return;
  }
  if (!(await whenReady(first))) {
    cascade(first.report.error ?? 'its preparation failed');
    return;
  }

  // The token: from the state directory, else recovered from the first server, else new.
  let token: string | undefined;
  try {
    const resolved = await resolveToken(opts, first);
    token = resolved.token;
    result.token = resolved.source;
    opts.log.addSecret(token);
    if (token && resolved.source === 'state' && first.k3s.installedVersion && !tokenMatchesServer(first.k3s, token)) {
      const file = join(opts.stateDir, 'token');
      throw new RevuePiError(
        `the cluster token in ${file} is not the one K3s on first server ${first.node.name} was started with; writing it would lock the nodes out of the cluster.`,
        {
          code: 'TOKEN_MISMATCH',
          node: first.node.name,
          hint: `If ${file} belongs to another cluster, point --state-dir at the right one; to use the cluster's own token, delete ${file} and run again (revue-pi recovers it from ${first.node.name}).`,
        },
      );
    }
  } catch (error) {
    fail(opts, first, message(error));
    cascade(message(error));
    return;
  }

  // Checks (role changes are refused, other versions reported) and plans: the first server now, every other node once
  // it is ready.
  const plan = (s: Session) => planNode(opts, s, firstNode, token);
  plan(first);
  if (first.report.error) {
    cascade(first.report.error);
    return;
  }

  if (opts.command === 'plan') {
    for (const s of sessions) {
      if (s !== first && (await whenReady(s))) plan(s);
      if (s.report.error || s.leftOut) continue;
      s.step.status = s.changes.length > 0 ? 'planned' : 'unchanged';
      s.step.changes = s.changes.map(describeClusterChange);
      opts.emit({ type: 'node-step', phase: PHASE, node: s.node.name, step: STEP, status: s.step.status, detail: summary(s.step.changes) });
    }
    return;
  }

  // up: the first server alone, then servers one by one, then agents in parallel.
  await converge(opts, first, token!, first);
  if (first.report.error) {
    cascade(first.report.error);
    return;
  }
  const firstTransport = first.transport!;
  if (first.changes.length > 0) {
    const apiUp = await waitForApi(opts, firstTransport);
    if (!apiUp.ok) {
      fail(opts, first, apiUp.error);
      cascade(apiUp.error);
      return;
    }
  }
  const readyThenConverge = async (s: Session) => {
    if (!(await whenReady(s))) return;
    plan(s);
    if (!s.report.error) await converge(opts, s, token!, first);
  };
  for (const s of others.filter((x) => x.node.role === 'server')) await readyThenConverge(s);
  await forEachNode(
    others.filter((x) => x.node.role === 'agent').map((s) => ({ name: s.node.name, s })),
    opts.concurrency,
    ({ s }) => readyThenConverge(s),
  );

  // The kubeconfig only needs the first server, so it is fetched while the others become Ready.
  const [readyNodesJson, kubeconfigPath] = await Promise.all([
    waitForReady(
      opts,
      first,
      sessions.filter((s) => !s.report.error && !s.leftOut),
    ),
    mergeKubeconfigFromServer(opts, first),
  ]);
  result.kubeconfigPath = kubeconfigPath;
  if (readyNodesJson !== undefined) result.readyNodesJson = readyNodesJson;
}

/** A node's checks (warnings, or a failure) and, if it passes, its plan. */
function planNode(opts: ClusterPhaseOptions, s: Session, firstServer: InventoryNode, token: string | undefined): void {
  const { inventory } = opts;
  for (const check of checkClusterNode(s.k3s, inventory, s.node)) {
    if (check.severity === 'warning') {
      s.report.warnings.push(check.message);
      opts.emit({ type: 'node-warning', node: s.node.name, message: check.message });
    } else {
      fail(opts, s, check.message);
    }
  }
  if (!s.report.error) s.changes = planClusterNode(s.k3s, inventory, s.node, { firstServer, token });
  const registration = registrationOnlyWarning(s.node, s.k3s, s.changes);
  if (registration) {
    s.report.warnings.push(registration);
    opts.emit({ type: 'node-warning', node: s.node.name, message: registration });
  }
}

// ---- token ----------------------------------------------------------------------------------------------

async function resolveToken(
  opts: ClusterPhaseOptions,
  first: Session,
): Promise<{ token: string | undefined; source: NonNullable<ClusterPhaseResult['token']> }> {
  const file = join(opts.stateDir, 'token');
  const stored = readStateToken(opts.stateDir);
  if (stored) return { token: stored, source: 'state' };

  const k3s = first.k3s;
  const mayHaveOne = k3s.installedVersion !== undefined || k3s.tokenFileSha256 !== undefined || k3s.serverTokenSha256 !== undefined;
  if (first.transport && mayHaveOne) {
    const fromFile = (await first.transport.readFile(TOKEN_FILE_PATH, { sudo: true }))?.toString('utf8').trim();
    const fromServer = fromFile ? undefined : (await first.transport.readFile(SERVER_TOKEN_PATH, { sudo: true }))?.toString('utf8').trim();
    const recovered = fromFile ? tokenSecret(fromFile) : fromServer ? tokenSecret(fromServer) : undefined;
    if (recovered) {
      opts.log.addSecret(recovered);
      const where = fromFile ? TOKEN_FILE_PATH : SERVER_TOKEN_PATH;
      if (opts.command === 'up') {
        mkdirSync(opts.stateDir, { recursive: true, mode: 0o700 });
        writePrivateFile(file, tokenFileContent(recovered));
      }
      const msg = `The cluster token was missing from ${file}; recovered it from ${where} on first server ${first.node.name}${opts.command === 'up' ? ' and saved it there (mode 0600)' : ''}.`;
      opts.log.write(msg);
      opts.emit({ type: 'info', message: msg });
      return { token: recovered, source: 'recovered' };
    }
    if (k3s.installedVersion) {
      throw new RevuePiError(
        `K3s is installed on first server ${first.node.name} but neither ${TOKEN_FILE_PATH} nor ${SERVER_TOKEN_PATH} holds a token, and ${file} does not exist.`,
        {
          code: 'TOKEN_LOST',
          node: first.node.name,
          hint: `Put the cluster's token into ${file} (mode 0600), or uninstall K3s on the nodes (k3s-uninstall.sh) to start a new cluster.`,
        },
      );
    }
  }
  if (opts.command === 'plan') return { token: undefined, source: 'none-yet' };
  const token = generateToken(opts.random);
  mkdirSync(opts.stateDir, { recursive: true, mode: 0o700 });
  writePrivateFile(file, tokenFileContent(token));
  opts.log.write(`generated a new cluster token in ${file} (mode 0600)`);
  return { token, source: 'generated' };
}

// ---- one node ---------------------------------------------------------------------------------------------

async function converge(opts: ClusterPhaseOptions, s: Session, token: string, first: Session): Promise<void> {
  const { emit, log } = opts;
  const name = s.node.name;
  if (s.changes.length === 0) {
    emit({ type: 'node-step', phase: PHASE, node: name, step: STEP, status: 'unchanged' });
    return;
  }
  emit({ type: 'node-step', phase: PHASE, node: name, step: STEP, status: 'running', detail: summary(s.changes.map(describeClusterChange)) });
  try {
    const transport = s.transport;
    if (!transport) throw new RevuePiError(`no connection to node ${name}.`, { code: 'CONNECTION', node: name });
    for (const change of s.changes) log.write(`[${name}] ${describeClusterChange(change)}`);
    await applyChanges(opts, s, transport, token, first);
    // What was planned and done, then anything learnt on the way (a node password that had to be cleared).
    s.step.changes.unshift(...s.changes.map(describeClusterChange));
    s.step.status = 'changed';
    emit({ type: 'node-step', phase: PHASE, node: name, step: STEP, status: 'changed', detail: summary(s.step.changes) });
  } catch (error) {
    fail(opts, s, message(error));
  }
}

/**
 * A node's changes in one round trip: the token and config.yaml go into place (root-only), then — in the same
 * shell, only if both were written — the installer or the restart runs. Air-gap files, large, are uploaded first.
 */
async function applyChanges(opts: ClusterPhaseOptions, s: Session, transport: Transport, token: string, first: Session): Promise<void> {
  const name = s.node.name;
  const files: FileToWrite[] = s.changes.flatMap((c) =>
    c.kind === 'write-token'
      ? [{ path: c.path, content: tokenFileContent(token), mode: 0o600 }]
      : c.kind === 'write-config'
        ? [{ path: c.path, content: c.content, mode: 0o600 }]
        : [],
  );
  const action = s.changes.find((c): c is Extract<ClusterChange, { kind: 'install' | 'restart' }> => c.kind === 'install' || c.kind === 'restart');
  if (!action) {
    const result = await transport.writeFilesThenRun(files, sh``, { sudo: true, timeoutMs: 60_000 });
    if (result.code !== 0)
      throw new RemoteCommandError(
        name,
        `Writing ${files.map((f) => f.path).join(' and ')}`,
        'install (upload) → …',
        result.code,
        `${result.stderr}\n${result.stdout}`,
      );
    return;
  }
  if (action.kind === 'install') {
    for (const upload of airgapUploads(opts.inventory)) {
      let content: Buffer;
      try {
        content = await readLocalOnce(opts, upload.local);
      } catch (error) {
        throw new RevuePiError(`The air-gap file ${upload.local} (k3s.airgap in the inventory) cannot be read: ${message(error)}`, {
          code: 'AIRGAP_FILE',
          node: name,
          cause: error,
        });
      }
      await transport.writeFile(upload.remote, content, { mode: upload.mode, sudo: true });
    }
    // The installed binary's fingerprint (and version, unless pinned) are read in the same round trip.
    const pinned = opts.inventory.k3s.airgap ? undefined : wantedK3sVersion(opts.inventory);
    const script = sh`${buildInstallScript(opts.inventory, s.node, { role: action.role })}${buildProbeScript(installedBinarySections(pinned))}`;
    const timeoutMs = opts.readyTimeoutMs + 300_000;
    const result = await runWatchingJournal(opts, s, () => transport.writeFilesThenRun(files, script, { sudo: true, timeoutMs }), first);
    // K3s may have given up on a stale node password before the watcher saw it: clear it and start again.
    if (result.code !== 0 && (await fixRejectedPassword(opts, s, first, { afterFailure: true }))) {
      await learnInstalledBinary(s, transport);
      return;
    }
    if (result.code !== 0) {
      const journal = result.code === 124 ? await journalTail(transport, unitFor(s.node.role)) : '';
      const output = `${result.stderr}\n${result.stdout}`;
      throw new RemoteCommandError(
        name,
        `Installing K3s (${action.role})`,
        script,
        result.code,
        result.code === 124
          ? `did not finish within ${formatSeconds(timeoutMs)} s. ${journal ? `Last lines of its ${unitFor(s.node.role)} journal:\n${journal}` : trimOutput(output)}`
          : output,
        `Fix the cause on ${name} and run up again: only the unfinished nodes are redone.`,
      );
    }
    learnInstalledBinaryFrom(s, result.stdout, pinned);
    learnWrittenFiles(s, result.stdout, files);
    return;
  }
  const result = await runWatchingJournal(
    opts,
    s,
    () => transport.writeFilesThenRun(files, buildRestartCommand(action.unit), { sudo: true, timeoutMs: opts.readyTimeoutMs }),
    first,
  );
  s.restartedAt = restartedAt(result.stdout);
  if (result.code !== 0 && (await fixRejectedPassword(opts, s, first, { afterFailure: true }))) return;
  if (result.code !== 0) {
    const journal = await journalTail(transport, action.unit);
    throw new RemoteCommandError(
      name,
      `Restarting ${action.unit}`,
      buildRestartCommand(action.unit),
      result.code,
      `${result.stderr}\n${result.stdout}\n${journal}`,
    );
  }
}

/**
 * Air-gap files are read once per run and the same buffer goes to every node: agents install in parallel,
 * and a copy per node of a ~70 MB binary plus the images tarball would add up fast.
 */
const localFilesPerRun = new WeakMap<ClusterPhaseOptions, Map<string, Promise<Buffer>>>();
function readLocalOnce(opts: ClusterPhaseOptions, path: string): Promise<Buffer> {
  let files = localFilesPerRun.get(opts);
  if (!files) localFilesPerRun.set(opts, (files = new Map()));
  let content = files.get(path);
  if (!content) {
    content = readFile(path);
    files.set(path, content);
  }
  return content;
}

/**
 * The probe sections that learn an installed binary: its fingerprint, and its version — asked of the binary only
 * when no version was pinned (a channel, an air-gap binary): a pinned install that succeeded installed that one.
 */
function installedBinarySections(pinned: string | undefined): ProbeSection[] {
  return k3sProbeSections().flatMap((x) =>
    x.name === 'k3s_binary' || x.name === 'k3s_files' || (x.name === 'k3s_version' && pinned === undefined) ? [x] : [],
  );
}

/**
 * After an agent's install: its root-only files as they now are — the fingerprint the install command's probe read,
 * the content revue-pi wrote (or probed, where it wrote none) — so that already the next run probes it without sudo.
 * Not for servers: their own token file is not readable without root anyway (RootFilesCache).
 */
function learnWrittenFiles(s: Session, stdout: string, written: FileToWrite[]): void {
  const fingerprint = parseK3sFacts(parseProbeOutput(stdout)).rootFilesFingerprint;
  if (s.node.role !== 'agent' || !fingerprint) return;
  const text = (path: string) => {
    const f = written.find((w) => w.path === path);
    return f === undefined ? undefined : typeof f.content === 'string' ? f.content : Buffer.from(f.content).toString('utf8');
  };
  const config = text(K3S_CONFIG_PATH);
  const token = text(TOKEN_FILE_PATH);
  s.k3s = {
    ...s.k3s,
    rootFilesFingerprint: fingerprint,
    config: config ?? s.k3s.config,
    tokenFileSha256: token !== undefined ? sha256Hex(token) : s.k3s.tokenFileSha256,
    nodePassword: fingerprint.split('\n').some((line) => line.endsWith(` ${NODE_PASSWORD_PATH}`)),
  };
}

/** After an install: the binary's version and fingerprint, for the report and the next run's probe cache. */
function learnInstalledBinaryFrom(s: Session, stdout: string, pinned: string | undefined): void {
  const facts = parseK3sFacts(parseProbeOutput(stdout));
  s.k3s = { ...s.k3s, installedVersion: pinned ?? facts.installedVersion, binaryFingerprint: facts.binaryFingerprint };
}

/** The same, in a round trip of its own (after an install that had to be helped through a node-password rejection). */
async function learnInstalledBinary(s: Session, transport: Transport): Promise<void> {
  const result = await transport.run(buildProbeScript(installedBinarySections(undefined)), { sudo: true, timeoutMs: 30_000 }).catch(() => undefined);
  if (!result || result.code !== 0) return;
  learnInstalledBinaryFrom(s, result.stdout, undefined);
}

/**
 * Runs an install or restart while watching the unit's journal: a node re-imaged under an old name is
 * refused ("Node password rejected") and would keep the installer waiting; removing the stale node object
 * and password secret on the first server lets it through (K3s retries on its own).
 */
async function runWatchingJournal(opts: ClusterPhaseOptions, s: Session, start: () => Promise<RunResult>, first: Session): Promise<RunResult> {
  const isFirst = s === first;
  let done = false;
  const command = start().finally(() => {
    done = true;
  });
  if (isFirst) return command;
  // Every 10 s: a rejected node password is rare, and each look costs the node a login, sudo and journalctl.
  const interval = opts.journalCheckIntervalMs ?? 10_000;
  const watcher = (async () => {
    while (!done) {
      await sleep(interval, () => done);
      if (done) return;
      if (await fixRejectedPassword(opts, s, first)) return;
    }
  })().catch(() => undefined);
  const result = await command;
  await watcher;
  return result;
}

/**
 * While a node is not Ready yet: a node-password rejection is cleared (fixRejectedPassword); a refusal that waiting
 * will not cure (a wrong token: K3s retries it for ever) throws at once, with the journal, instead of at the end of the
 * Ready timeout.
 */
async function checkJournal(opts: ClusterPhaseOptions, s: Session, first: Session): Promise<void> {
  if (s === first || !s.transport) return;
  const unit = unitFor(s.node.role);
  const journal = (await s.transport.run(buildJournalCommand(unit, 50), { sudo: true, timeoutMs: 15_000 })).stdout;
  if (await fixRejectedPassword(opts, s, first, {}, journal)) return;
  const refusal = joinRefusal(journal);
  if (!refusal) return;
  throw new RevuePiError(
    `K3s on node ${s.node.name} cannot join the cluster: ${refusal}. Last lines of its ${unit} journal:\n${journal.trim().split('\n').slice(-10).join('\n')}`,
    {
      code: 'JOIN_REFUSED',
      node: s.node.name,
      hint: `Check ${TOKEN_FILE_PATH} on ${s.node.name} against the cluster's token, then run up again.`,
    },
  );
}

/**
 * Checks the node's journal for a node-password rejection and, once per node, clears it: the stale node
 * object and its password secret go on the first server, then the unit starts again — an agent always; a
 * server only when its own start already failed (`afterFailure`), since a start still under way retries by
 * itself. True when it acted.
 */
async function fixRejectedPassword(
  opts: ClusterPhaseOptions,
  s: Session,
  first: Session,
  how: { afterFailure?: boolean } = {},
  journalText?: string,
): Promise<boolean> {
  const transport = s.transport;
  if (!transport || s === first || s.passwordFixed) return false;
  const unit = unitFor(s.node.role);
  const journal = journalText ?? (await transport.run(buildJournalCommand(unit, 50), { sudo: true, timeoutMs: 15_000 })).stdout;
  if (!isNodePasswordRejected(journal)) return false;
  s.passwordFixed = true;
  const name = s.node.name;
  opts.log.write(`[${name}] K3s refused the node password (the node was re-imaged): removing node ${name} and its password secret on ${first.node.name}`);
  const forget = await first.transport!.run(buildForgetNodeScript(name), { sudo: true, timeoutMs: 60_000 });
  if (forget.code !== 0) {
    throw new RemoteCommandError(
      first.node.name,
      `Removing the stale node object of ${name}`,
      buildForgetNodeScript(name),
      forget.code,
      `${forget.stderr}\n${forget.stdout}`,
    );
  }
  const restart = unit === 'k3s-agent' || how.afterFailure;
  if (restart) {
    const result = await transport.run(buildRestartCommand(unit), { sudo: true, timeoutMs: opts.readyTimeoutMs });
    s.restartedAt = restartedAt(result.stdout);
    if (result.code !== 0) {
      const tail = await journalTail(transport, unit);
      throw new RemoteCommandError(
        name,
        `Restarting ${unit} after clearing its stale node password`,
        buildRestartCommand(unit),
        result.code,
        `${result.stderr}\n${result.stdout}\n${tail}`,
      );
    }
  }
  const text = `node password rejected (node re-imaged): removed the stale node object ${name} and secret kube-system/${name}.node-password.k3s on ${first.node.name}${restart ? `, restarted ${unit}` : ''}`;
  s.step.changes.push(text);
  s.step.status = 'changed';
  s.report.warnings.push(`node ${name}: ${text}`);
  opts.emit({ type: 'node-warning', node: name, message: text });
  return true;
}

// ---- readiness ------------------------------------------------------------------------------------------

async function getNodes(transport: Transport): Promise<{ nodes?: NodeReadiness[]; json?: string; error?: string }> {
  try {
    const result = await transport.run(GET_NODES_COMMAND, { sudo: true, timeoutMs: 30_000 });
    if (result.code !== 0) return { error: trimOutput(`${result.stderr}\n${result.stdout}`, 3) };
    return nodesFrom(result.stdout);
  } catch (error) {
    return { error: message(error) };
  }
}

function nodesFrom(kubectlJson: string): { nodes?: NodeReadiness[]; json?: string; error?: string } {
  try {
    return { nodes: parseNodesReady(kubectlJson), json: kubectlJson };
  } catch (error) {
    return { error: message(error) };
  }
}

/** After the first server changed: the API must answer before anyone joins it. */
async function waitForApi(opts: ClusterPhaseOptions, transport: Transport): Promise<{ ok: true } | { ok: false; error: string }> {
  const deadline = Date.now() + opts.readyTimeoutMs;
  let last = '';
  for (;;) {
    const got = await getNodes(transport);
    if (got.nodes) return { ok: true };
    last = got.error ?? '';
    if (Date.now() >= deadline) break;
    await sleep(opts.pollIntervalMs ?? 2000);
  }
  const journal = await journalTail(transport, 'k3s');
  return {
    ok: false,
    error: `the Kubernetes API on ${transport.nodeName} did not answer within ${formatSeconds(opts.readyTimeoutMs)} s (k3s kubectl: ${last}).${journal ? ` Last lines of its k3s journal:\n${journal}` : ''}`,
  };
}

/** Resolves with the node list that showed every node Ready (undefined when some never were, or none to wait for). */
async function waitForReady(opts: ClusterPhaseOptions, first: Session, sessions: Session[]): Promise<string | undefined> {
  if (sessions.length === 0) return undefined;
  const { emit } = opts;
  const deadline = Date.now() + opts.readyTimeoutMs;
  const pending = new Map(sessions.map((s) => [s.node.name, s]));
  const journalEvery = opts.journalCheckIntervalMs ?? 5000;
  let lastJournalCheck = Date.now();
  let seen = new Map<string, NodeReadiness>();
  let lastError = '';
  for (const s of sessions) emit({ type: 'node-step', phase: PHASE, node: s.node.name, step: 'ready', status: 'running' });
  // Nothing was installed, rewritten or restarted: the node list the first server's probe read moments ago is
  // current, so a converged re-run asks the API nothing more. Later rounds (someone not Ready yet) ask again.
  let probed = sessions.every((s) => s.changes.length === 0) ? first.k3s.apiNodesJson : undefined;
  for (;;) {
    const got = probed !== undefined ? nodesFrom(probed) : await getNodes(first.transport!);
    probed = undefined;
    if (got.nodes) {
      seen = new Map(got.nodes.map((n) => [n.name, n]));
      for (const name of [...pending.keys()]) {
        const node = seen.get(name);
        if (node && readySince(node, pending.get(name)!.restartedAt)) {
          pending.delete(name);
          emit({ type: 'node-step', phase: PHASE, node: name, step: 'ready', status: 'done', detail: node.version });
        }
      }
    } else {
      lastError = got.error ?? '';
    }
    if (pending.size === 0) return got.json;
    if (Date.now() >= deadline) break;
    if (Date.now() - lastJournalCheck >= journalEvery) {
      lastJournalCheck = Date.now();
      await Promise.all(
        [...pending.values()].map((s) =>
          checkJournal(opts, s, first).catch((error) => {
            fail(opts, s, message(error));
            pending.delete(s.node.name);
          }),
        ),
      );
    }
    await sleep(opts.pollIntervalMs ?? 2000);
  }
  const seconds = formatSeconds(opts.readyTimeoutMs);
  await Promise.all(
    [...pending.values()].map(async (s) => {
      const unit = unitFor(s.node.role);
      const state = seen.has(s.node.name)
        ? 'registered but not Ready'
        : seen.size === 0 && lastError
          ? `the API on ${first.node.name} did not list the nodes: ${lastError}`
          : 'not registered with the cluster';
      const journal = s.transport ? await journalTail(s.transport, unit) : '';
      fail(
        opts,
        s,
        `node ${s.node.name} is not Ready after ${seconds} s (${state}).${journal ? ` Last lines of its ${unit} journal:\n${journal}` : ''}\n` +
          `Fix the cause and run up again; raise k3s.readyTimeoutSeconds for slow nodes.`,
      );
    }),
  );
}

async function journalTail(transport: Transport, unit: 'k3s' | 'k3s-agent'): Promise<string> {
  try {
    const result = await transport.run(buildJournalCommand(unit), { sudo: true, timeoutMs: 15_000 });
    // Shown to the operator as it is: no control sequence from the node's journal may reach the terminal.
    return stripControlChars(result.stdout).trim();
  } catch {
    return '';
  }
}

// ---- kubeconfig -------------------------------------------------------------------------------------------

/** Reads the server's kubeconfig (sudo), rewrites it and merges it into the operator's file (0600). */
async function mergeKubeconfigFromServer(opts: ClusterPhaseOptions, first: Session): Promise<string | undefined> {
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

// ---- helpers ------------------------------------------------------------------------------------------------

function fail(opts: ClusterPhaseOptions, s: Session, text: string): void {
  s.report.error = text;
  s.step.status = 'failed';
  s.step.error = text;
  opts.log.write(`[${s.node.name}] cluster failed: ${text}`);
  opts.emit({ type: 'node-step', phase: PHASE, node: s.node.name, step: STEP, status: 'failed', detail: text });
}

function formatSeconds(ms: number): string {
  return ms < 10_000 ? String(Math.round(ms / 100) / 10) : String(Math.round(ms / 1000));
}

function summary(changes: string[]): string | undefined {
  if (changes.length === 0) return undefined;
  return changes.length === 1 ? changes[0] : `${changes.length} changes: ${changes.join('; ')}`;
}

function message(error: unknown): string {
  if (error instanceof RevuePiError) return error.hint ? `${error.message} ${error.hint}` : error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}

/** Sleeps, waking early (checked every 50 ms) when `stop` turns true. */
async function sleep(ms: number, stop?: () => boolean): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (stop?.()) return;
    await new Promise((r) => setTimeout(r, Math.min(50, end - Date.now())));
  }
}
