import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { trimOutput } from '../../core/errors.js';
import type { Inventory, InventoryNode } from '../../core/inventory/schema.js';
import type { RunLog } from '../../core/log.js';
import { buildProbeScript, parseProbeOutput } from '../../core/remote/probe.js';
import { SERVER_TOKEN_PATH, type K3sUnit } from '../../core/k3s-paths.js';
import type { RunResult, Transport } from '../../core/remote/transport.js';
import { tokenSecret } from '../token.js';
import { parseChecksums } from './backup.js';
import type { LoadedBackup } from './restore-backup.js';
import {
  CLEAR_RECORD_COMMAND,
  RESTORE_RECORD_PATH,
  buildAsideFoldersProbe,
  buildResetFlagProbe,
  formatRestoreRecord,
  parseAsideFolders,
  parseResetFlag,
  parseRestoreRecord,
  type RestoreRecord,
} from './restore-record.js';
import { CLUSTER_READ_COMMAND, parseClusterView, type NodeView } from './cluster-view.js';
import { ETCD_MEMBERS_COMMAND, buildDatastoreProbe, parseDatastore, parseEtcdMembers } from './etcd.js';
import { describeRestoreStep, planRestore, restoreSnapshotPath, type RestoreNodeInput, type RestorePlan, type RestoreStep } from './restore.js';
import {
  START_AGENT_COMMAND,
  START_SERVER_COMMAND,
  STOP_AGENT_COMMAND,
  STOP_SERVER_COMMAND,
  buildClusterResetCommand,
  buildMoveDbAsideCommand,
  buildSnapshotChecksumProbe,
  buildUnitFailedProbe,
  resetSucceeded,
  restoreProblems,
  serverRejoined,
  readySinceSnapshot,
} from './restore-commands.js';

/**
 * `revue-pi restore`, the doing half: finds the backup on this computer and checks it, probes every node, has restore.ts
 * plan, asks (through `confirm`), then runs the steps in order and stops at the first that fails, saying what was done.
 * Every command comes from restore-commands.ts. A little over 300 lines: the one switch over the steps (runStep) reads
 * best whole, next to the waits it calls.
 */
export interface RestoreOptions {
  inventory: Inventory;
  loaded: LoadedBackup;
  dryRun: boolean;
  open: (node: InventoryNode) => Promise<Transport>;
  log: RunLog;
  progress: (line: string) => void;
  showPlan?: (plan: RestorePlan) => void;
  /** Asks the operator; undefined: go on (--yes). */
  confirm?: (plan: RestorePlan) => Promise<boolean>;
  /** How long a restarted node may take to be Ready (and a voter); default 300 s. */
  nodeWaitMs?: number;
  pollMs?: number;
  now?: () => Date;
}

export interface RestoreResult {
  ok: boolean;
  exitCode: number;
  cluster: string;
  backup: string;
  plan?: RestorePlan;
  steps: { kind: RestoreStep['kind']; node?: string; description: string; status: 'done' | 'failed' | 'not run'; detail?: string }[];
  warnings: string[];
  error?: string;
}

export async function runRestore(opts: RestoreOptions): Promise<RestoreResult> {
  const { inventory, loaded, log } = opts;
  const result: RestoreResult = { ok: false, exitCode: 1, cluster: inventory.cluster.name, backup: loaded.backup.name, steps: [], warnings: [] };
  const fail = (text: string): RestoreResult => {
    log.write(`restore failed: ${text}`);
    return { ...result, error: text };
  };
  const transports = new Map<string, Transport>();
  try {
    const probed = await probeNodes(opts, transports);
    const token = readFileSync(join(loaded.folder, 'token'), 'utf8');
    log.addSecret(token.trim());
    log.addSecret(tokenSecret(token));
    const stamp = (opts.now?.() ?? new Date())
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+Z$/, 'Z');
    const plan = planRestore({
      cluster: inventory.cluster.name,
      backup: loaded.backup,
      nodes: probed.nodes,
      snapshotOnFirst: probed.snapshotSha256 === loaded.backup.snapshotSha256,
      tokenMatches: probed.serverToken !== undefined && tokenSecret(probed.serverToken) === tokenSecret(token),
      asideSuffix: stamp,
      ...(probed.record ? { record: probed.record } : {}),
      resetFlagOnFirst: probed.resetFlag,
    });
    result.plan = plan;
    result.warnings = [...plan.warnings];
    opts.showPlan?.(plan);
    if (plan.refused !== undefined) return fail(plan.refused);
    result.steps = plan.steps.map((s) => ({ kind: s.kind, ...('node' in s ? { node: s.node } : {}), description: describeRestoreStep(s), status: 'not run' }));
    if (opts.dryRun) return { ...result, ok: true, exitCode: 0 };
    if (opts.confirm && !(await opts.confirm(plan))) return fail('not confirmed: nothing was changed.');

    for (const [i, step] of plan.steps.entries()) {
      const report = result.steps[i]!;
      opts.progress(`${i + 1}/${plan.steps.length} ${report.description}`);
      log.write(`step ${step.kind}${'node' in step ? ` ${step.node}` : ''}`);
      const outcome = await runStep(opts, step, transports, plan.first);
      report.status = outcome.error ? 'failed' : 'done';
      if (outcome.detail) report.detail = outcome.detail;
      if (outcome.warning) result.warnings.push(outcome.warning);
      if (outcome.error) {
        const done = result.steps.slice(0, i).map((s) => `${s.kind}${s.node ? ` ${s.node}` : ''}`);
        return fail(`${outcome.error}${done.length ? ` Done before: ${done.join(', ')}.` : ''}`);
      }
    }
    return { ...result, ok: true, exitCode: 0 };
  } catch (error) {
    return fail(error instanceof Error ? error.message : String(error));
  } finally {
    await Promise.all([...transports.values()].map((t) => t.close().catch(() => undefined)));
  }
}

/**
 * Every node over SSH; the servers' datastores and db-before-restore folders; on the first server, the snapshot's sha256
 * if there, its token, the record of a restore under way and K3s's reset flag.
 */
async function probeNodes(
  opts: RestoreOptions,
  transports: Map<string, Transport>,
): Promise<{ nodes: RestoreNodeInput[]; snapshotSha256?: string; serverToken?: string; record?: RestoreRecord | 'unreadable'; resetFlag: boolean }> {
  const servers = opts.inventory.nodes.filter((n) => n.role === 'server');
  const path = restoreSnapshotPath(opts.loaded.backup.name);
  let snapshotSha256: string | undefined;
  let serverToken: string | undefined;
  let record: RestoreRecord | 'unreadable' | undefined;
  let resetFlag = false;
  // Settled, not Promise.all: a probe that throws must not leave other nodes connecting after the run closed its transports.
  const settled = await Promise.allSettled(
    opts.inventory.nodes.map(async (node): Promise<RestoreNodeInput> => {
      const base = { name: node.name, host: node.host, role: node.role };
      let transport: Transport;
      try {
        transport = await opts.open(node);
        transports.set(node.name, transport);
      } catch (error) {
        return { ...base, reachable: false, unreachableReason: error instanceof Error ? error.message.split('\n')[0] : String(error) };
      }
      if (node.role !== 'server') return { ...base, reachable: true };
      const isFirst = node.name === servers[0]?.name;
      const probe = await transport.run(
        buildProbeScript([
          { name: 'datastore', script: buildDatastoreProbe() },
          { name: 'aside', script: buildAsideFoldersProbe() },
          ...(isFirst
            ? [
                { name: 'snapshot', script: buildSnapshotChecksumProbe(path) },
                { name: 'reset_flag', script: buildResetFlagProbe() },
              ]
            : []),
        ]),
        { sudo: true, timeoutMs: 60_000 },
      );
      const sections = parseProbeOutput(probe.stdout);
      if (isFirst) {
        snapshotSha256 = parseChecksums(sections.get('snapshot') ?? '').get(path);
        resetFlag = parseResetFlag(sections.get('reset_flag') ?? '');
        record = parseRestoreRecord((await transport.readFile(RESTORE_RECORD_PATH, { sudo: true }))?.toString('utf8'));
        serverToken = (await transport.readFile(SERVER_TOKEN_PATH, { sudo: true }))?.toString('utf8');
        if (serverToken) {
          opts.log.addSecret(serverToken.trim());
          opts.log.addSecret(tokenSecret(serverToken));
        }
      }
      return {
        ...base,
        reachable: true,
        datastore: parseDatastore(sections.get('datastore') ?? ''),
        asideRuns: parseAsideFolders(sections.get('aside') ?? ''),
      };
    }),
  );
  const nodes = settled.map((s) => {
    if (s.status === 'rejected') throw s.reason;
    return s.value;
  });
  return { nodes, ...(snapshotSha256 ? { snapshotSha256 } : {}), ...(serverToken ? { serverToken } : {}), ...(record ? { record } : {}), resetFlag };
}

type Outcome = { error?: string; detail?: string; warning?: string };

async function runStep(opts: RestoreOptions, step: RestoreStep, transports: Map<string, Transport>, first: string): Promise<Outcome> {
  const output = (r: RunResult) => trimOutput(`${r.stderr}\n${r.stdout}`);
  const on = (node: string) => transports.get(node)!;
  const simple = async (node: string, script: Parameters<Transport['run']>[0], what: string): Promise<Outcome> => {
    const r = await on(node).run(script, { sudo: true, timeoutMs: 180_000 });
    return r.code === 0 ? {} : { error: `${what} on ${node} failed (exit ${r.code}): ${output(r)}.` };
  };
  const createdAt = opts.loaded.backup.createdAt;
  const recordOf = (run: string, reset: RestoreRecord['reset']): RestoreRecord => ({
    backup: opts.loaded.backup.name,
    snapshotSha256: opts.loaded.backup.snapshotSha256,
    run,
    reset,
  });
  switch (step.kind) {
    case 'stop-agent':
      return simple(step.node, STOP_AGENT_COMMAND, 'stopping K3s');
    case 'stop-server':
      return simple(step.node, STOP_SERVER_COMMAND, 'stopping K3s');
    case 'upload-snapshot': {
      const data = readFileSync(join(opts.loaded.folder, 'snapshot'));
      await on(step.node).writeFile(step.path, data, { sudo: true, mode: 0o600 });
      const r = await on(step.node).run(buildSnapshotChecksumProbe(step.path), { sudo: true, timeoutMs: 120_000 });
      const sum = parseChecksums(r.stdout).get(step.path);
      if (sum !== opts.loaded.backup.snapshotSha256)
        return {
          error: `the snapshot uploaded to ${step.node}:${step.path} does not match the backup (sha256 ${sum ?? 'none'} there). K3s is stopped on every node: run restore again.`,
        };
      return { detail: `${data.length} bytes` };
    }
    case 'record-run':
      await on(step.node).writeFile(RESTORE_RECORD_PATH, formatRestoreRecord(recordOf(step.run, 'started')), { sudo: true, mode: 0o600 });
      return { detail: `run ${step.run}` };
    case 'cluster-reset': {
      const r = await on(step.node).run(buildClusterResetCommand(step.path), { sudo: true, timeoutMs: 660_000 });
      const text = `${r.stderr}\n${r.stdout}`;
      if (r.code === 0 && resetSucceeded(text)) {
        // From here a re-run must not reset again: others may rejoin what this reset made.
        await on(step.node).writeFile(RESTORE_RECORD_PATH, formatRestoreRecord(recordOf(step.run, 'done')), { sudo: true, mode: 0o600 });
        return { detail: 'etcd membership reset; the snapshot is restored' };
      }
      return {
        error: `the reset from the snapshot on ${step.node} failed (exit ${r.code}): ${trimOutput(text, 6)}. K3s is stopped on every node; ${step.node}'s previous etcd data is in /var/lib/rancher/k3s/server/db/etcd-old-<unix time> if K3s got as far as moving it.`,
      };
    }
    case 'start-first-server':
    case 'start-server': {
      const started = await simple(step.node, START_SERVER_COMMAND, 'starting K3s');
      if (started.error) return started;
      return waitForNode(
        opts,
        on(first),
        { name: step.node, transport: on(step.node), unit: 'k3s' },
        (n) => serverRejoined(n, createdAt),
        'Ready and EtcdIsVoter=True',
      );
    }
    case 'move-db-aside': {
      const r = await on(step.node).run(buildMoveDbAsideCommand(step.to), { sudo: true, timeoutMs: 120_000 });
      if (r.code !== 0) return { error: `moving ${step.node}'s datastore aside failed (exit ${r.code}): ${output(r)}.` };
      return { detail: r.stdout.trim() === 'moved' ? `now ${step.to}` : 'already gone (an earlier run moved it)' };
    }
    case 'start-agent': {
      const started = await simple(step.node, START_AGENT_COMMAND, 'starting K3s');
      if (started.error) return started;
      return waitForNode(opts, on(first), { name: step.node, transport: on(step.node), unit: 'k3s-agent' }, (n) => readySinceSnapshot(n, createdAt), 'Ready');
    }
    case 'check': {
      const view = await readNodes(on(first));
      const members = await on(first).run(ETCD_MEMBERS_COMMAND, { sudo: true, timeoutMs: 30_000 });
      if (!view || members.code !== 0) return { error: `the cluster could not be read on ${first} after the restore: ${output(members)}` };
      const list = parseEtcdMembers(members.stdout);
      const problems = restoreProblems({ nodes: view, members: list, servers: step.servers, agents: step.agents, snapshotTime: createdAt });
      if (problems.length > 0) return { error: `after the restore: ${problems.join('; ')}.` };
      const extra = view.filter((n) => !step.servers.includes(n.name) && !step.agents.includes(n.name)).map((n) => n.name);
      return {
        detail: `${view.length} nodes Ready; etcd members ${list.map((m) => m.name).join(', ')}`,
        ...(extra.length
          ? {
              warning: `the snapshot holds nodes the inventory does not list: ${extra.join(', ')} (they come back NotReady; revue-pi remove-node takes them out).`,
            }
          : {}),
      };
    }
    case 'clear-record':
      return simple(step.node, CLEAR_RECORD_COMMAND, `removing ${RESTORE_RECORD_PATH}`);
  }
}

async function readNodes(via: Transport): Promise<NodeView[] | undefined> {
  const r = await via.run(CLUSTER_READ_COMMAND, { sudo: true, timeoutMs: 60_000 });
  if (r.code !== 0 || !r.stdout.trimStart().startsWith('{')) return undefined;
  return parseClusterView(r.stdout).nodes;
}

/** Until the node is `what` (as the first server's API says), bounded; at once when its unit has failed (K3s exited). */
async function waitForNode(
  opts: RestoreOptions,
  via: Transport,
  target: { name: string; transport: Transport; unit: K3sUnit },
  done: (n: NodeView | undefined) => boolean,
  what: string,
): Promise<Outcome> {
  const { name } = target;
  const waitMs = opts.nodeWaitMs ?? 300_000;
  const deadline = Date.now() + waitMs;
  let last = 'the API did not answer';
  for (;;) {
    const failed = await target.transport.run(buildUnitFailedProbe(target.unit), { sudo: true, timeoutMs: 30_000 });
    if (failed.code !== 0)
      return { error: `K3s on ${name} stopped instead of becoming ${what} (unit ${target.unit} failed). Last lines of its journal:\n${failed.stdout.trim()}` };
    const nodes = await readNodes(via).catch(() => undefined);
    const node = nodes?.find((n) => n.name === name);
    if (done(node)) return { detail: `${what}` };
    if (nodes) last = node ? `Ready=${node.ready ?? '?'}, EtcdIsVoter=${node.etcdVoter ?? '-'}` : 'no Node yet';
    if (Date.now() > deadline)
      return {
        error: `${name} is not ${what} after ${Math.round(waitMs / 1000)} s (${last}). Look at \`journalctl -u k3s\` (or k3s-agent) on it, then run restore again or finish by hand.`,
      };
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 2000));
  }
}
