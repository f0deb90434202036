import { posix } from 'node:path';
import { SERVER_TOKEN_PATH } from '../../core/k3s-paths.js';
import { SNAPSHOT_DIR, isSnapshotName } from './backup.js';
import type { Datastore } from './etcd.js';
import { buildClusterResetCommand } from './restore-commands.js';
import { RESTORE_RECORD_PATH, SERVER_DB_DIR, asideFolder, type RestoreRecord } from './restore-record.js';

export { SERVER_DB_DIR, asideFolder };

/**
 * `revue-pi restore SNAPSHOT`, the deciding half: K3s's documented multi-server restore (docs.k3s.io
 * datastore/backup-restore; k3s-io/k3s pkg/cluster/managed.go start(), pkg/etcd/etcd.go Reset() and Restore(); contract
 * in test/lab/k3s-standin/README.md, "Cluster reset and restore") as a plan — stop K3s everywhere, reset the first server
 * from the snapshot with `--cluster-reset --cluster-reset-restore-path`, start it, move the other servers' db/ aside and
 * start them one at a time (each a voter before the next), start the agents, check. Pure; restore-run.ts does the work.
 */

export interface RestoreBackup {
  name: string;
  cluster: string;
  node: string;
  createdAt: string;
  k3sVersion?: string;
  snapshotSha256: string;
}

export interface RestoreNodeInput {
  name: string;
  host: string;
  role: 'server' | 'agent';
  /** SSH worked; undefined reason when it did. */
  reachable: boolean;
  unreachableReason?: string;
  /** Servers only: what its db/ holds. */
  datastore?: Datastore;
  /** Servers only: the run stamps of its db-before-restore-<run> folders. */
  asideRuns?: string[];
}

export interface RestoreInput {
  cluster: string;
  backup: RestoreBackup;
  /** Inventory order: servers[0] is the first server, the one reset from the snapshot. */
  nodes: RestoreNodeInput[];
  /** The snapshot is on the first server already, with the backup's sha256. */
  snapshotOnFirst: boolean;
  /** The backup's token has the secret of the first server's token now (etcd's bootstrap data is encrypted with it). */
  tokenMatches: boolean;
  /** Suffix of the folders the other servers' db/ is moved to (a time stamp, given so the plan is pure). */
  asideSuffix: string;
  /** The record of a restore under way on the first server (restore-record.ts), when there is one. */
  record?: RestoreRecord | 'unreadable';
  /** K3s's db/reset-flag is on the first server (a reset done, the server not started normally since). */
  resetFlagOnFirst?: boolean;
}

export type RestoreStep =
  | { kind: 'stop-agent'; node: string }
  | { kind: 'stop-server'; node: string }
  | { kind: 'upload-snapshot'; node: string; path: string }
  | { kind: 'record-run'; node: string; run: string }
  | { kind: 'cluster-reset'; node: string; path: string; run: string }
  | { kind: 'start-first-server'; node: string }
  | { kind: 'move-db-aside'; node: string; to: string }
  | { kind: 'start-server'; node: string }
  | { kind: 'start-agent'; node: string }
  | { kind: 'check'; servers: string[]; agents: string[] }
  | { kind: 'clear-record'; node: string };

export type RestorePlan =
  | { refused: string; warnings: string[] }
  | {
      refused?: undefined;
      first: string;
      snapshotPath: string;
      /** The run stamp: this run's, or the interrupted run's being resumed. */
      run: string;
      /** What an interrupted run of this restore already did (empty for a fresh restore). */
      done: string[];
      steps: RestoreStep[];
      lost: string[];
      kept: string[];
      warnings: string[];
    };

export function restoreSnapshotPath(name: string): string {
  if (!isSnapshotName(name)) throw new Error(`not a snapshot name revue-pi made: ${name}`);
  return posix.join(SNAPSHOT_DIR, name);
}

export function planRestore(input: RestoreInput): RestorePlan {
  const { cluster, backup } = input;
  const warnings: string[] = [];
  const servers = input.nodes.filter((n) => n.role === 'server');
  const agents = input.nodes.filter((n) => n.role === 'agent');
  const first = servers[0];
  if (!first) return { refused: 'the inventory has no node with role: server: there is nothing to restore into.', warnings };
  if (backup.cluster !== cluster)
    return {
      refused: `backup ${backup.name} is of cluster ${backup.cluster}, not ${cluster} (the inventory's cluster.name): revue-pi restores a cluster only from its own backups.`,
      warnings,
    };
  const unreachable = input.nodes.filter((n) => !n.reachable);
  if (unreachable.length > 0)
    return {
      refused: `restore stops and restarts K3s on every node, and ${unreachable.map((n) => `${n.name} (${n.unreachableReason ?? 'unreachable'})`).join(', ')} ${unreachable.length > 1 ? 'do' : 'does'} not answer over SSH: nothing was changed. Bring ${unreachable.length > 1 ? 'them' : 'it'} back, or take ${unreachable.length > 1 ? 'them' : 'it'} out of the inventory (and add ${unreachable.length > 1 ? 'them' : 'it'} again later with revue-pi up), then run restore again.`,
      warnings,
    };
  if (first.datastore === 'sqlite')
    return {
      refused: `cluster ${cluster} keeps its state in SQLite on ${first.name} (${SERVER_DB_DIR}/state.db), not in embedded etcd: K3s's --cluster-reset restores an etcd snapshot only into an etcd server, so revue-pi restores nothing here. For SQLite the K3s docs' way is by hand: stop K3s, put back a copy of ${SERVER_DB_DIR}/ and ${SERVER_TOKEN_PATH}, start K3s.`,
      warnings,
    };
  const record = input.record;
  if (record === 'unreadable')
    return {
      refused: `${first.name} has a ${RESTORE_RECORD_PATH} that revue-pi cannot read: that file marks a restore under way, so nothing was changed. If no restore is under way (look at the file), delete it and run restore again.`,
      warnings,
    };
  if (record && record.backup !== backup.name)
    return {
      refused: `a restore of cluster ${cluster} from backup ${record.backup} (run ${record.run}) is half-done: ${first.name} ${record.reset === 'done' || input.resetFlagOnFirst ? 'was already reset from that snapshot' : 'was being reset from that snapshot'} (its record: ${RESTORE_RECORD_PATH}). Restoring ${backup.name} over it would mix the two, so nothing was changed. Finish that restore first with revue-pi restore ${record.backup} (a re-run continues where it stopped), then restore ${backup.name}.`,
      warnings,
    };
  // A re-run of the same restore goes on from what the nodes show: the run's stamp, the reset, the db/ moved aside.
  const run = record?.run ?? input.asideSuffix;
  const aside = asideFolder(run);
  const resetDone = record !== undefined && (record.reset === 'done' || input.resetFlagOnFirst === true);
  const others = servers.slice(1);
  const moved = (s: RestoreNodeInput) => record !== undefined && (s.asideRuns ?? []).includes(run);
  const noK3s = servers.filter((s) => s.datastore !== 'etcd' && !(record !== undefined && (s === first || moved(s))));
  if (noK3s.length > 0)
    return {
      refused: `${noK3s.map((s) => `${s.name} (${s.datastore === 'sqlite' ? 'SQLite' : 'no K3s server data'})`).join(', ')} ${noK3s.length > 1 ? 'are' : 'is'} not an embedded-etcd server of cluster ${cluster}: restore puts a snapshot back into the cluster revue-pi up made, it does not build one. Run revue-pi up first, then restore.`,
      warnings,
    };
  if (!input.tokenMatches)
    return {
      refused: `backup ${backup.name} was saved with another server token than the one ${first.name} runs with now (${SERVER_TOKEN_PATH}). K3s encrypts its bootstrap data in etcd with that token, so a reset from this snapshot would stop with "bootstrap data already found and encrypted with different token" and leave the cluster down: nothing was changed. Restore a backup of this cluster, or rebuild it with the backup's token (the token file in the backup folder) first.`,
      warnings,
    };

  const path = restoreSnapshotPath(backup.name);
  // Once the first server is reset, an unmoved server is stopped again before its move (an operator may have started it).
  const rejoin = (s: RestoreNodeInput): RestoreStep[] =>
    moved(s)
      ? [{ kind: 'start-server', node: s.name }]
      : [
          ...(resetDone ? [{ kind: 'stop-server' as const, node: s.name }] : []),
          { kind: 'move-db-aside', node: s.name, to: aside },
          { kind: 'start-server', node: s.name },
        ];
  const rest: RestoreStep[] = [
    { kind: 'start-first-server', node: first.name },
    ...others.flatMap(rejoin),
    ...agents.map((a) => ({ kind: 'start-agent' as const, node: a.name })),
    { kind: 'check', servers: servers.map((s) => s.name), agents: agents.map((a) => a.name) },
    { kind: 'clear-record', node: first.name },
  ];
  const steps: RestoreStep[] = resetDone
    ? rest
    : [
        ...agents.map((a) => ({ kind: 'stop-agent' as const, node: a.name })),
        // The others first: the first server stops last, so the cluster answers for as long as it can.
        ...[...others, first].map((s) => ({ kind: 'stop-server' as const, node: s.name })),
        ...(input.snapshotOnFirst ? [] : [{ kind: 'upload-snapshot' as const, node: first.name, path }]),
        ...(record ? [] : [{ kind: 'record-run' as const, node: first.name, run }]),
        { kind: 'cluster-reset', node: first.name, path, run },
        ...rest,
      ];
  const done: string[] = [];
  if (record && !resetDone)
    done.push(`${first.name} holds the record of this restore (run ${run}), but its reset did not finish: it is reset again (nothing has rejoined it yet)`);
  if (resetDone)
    done.push(
      `${first.name} was reset from snapshot ${backup.name}${record.reset === 'done' ? '' : " (K3s's db/reset-flag is there)"}: it is not reset again, only started and waited for`,
    );
  for (const s of others.filter(moved))
    done.push(
      `${s.name}'s ${SERVER_DB_DIR} was moved to ${aside}${s.datastore === 'etcd' ? ' and it has rejoined (it has etcd data again)' : ''}: it is not moved again, only started and waited for`,
    );
  const lost = [
    `everything cluster ${cluster} stored after ${backup.createdAt} (objects created, changed or deleted since backup ${backup.name}: Deployments, ConfigMaps, Secrets, volume claims…); what volumes hold on disk is not touched`,
    ...(others.length > 0 ? [`the etcd data of ${others.map((s) => s.name).join(', ')}: they rejoin empty from ${first.name}`] : []),
  ];
  const kept = [
    `${first.name}'s etcd data before the reset: K3s moves it to ${SERVER_DB_DIR}/etcd-old-<unix time>`,
    ...others.map((s) => `${s.name}'s ${SERVER_DB_DIR}: moved to ${aside} (not deleted; remove it once the cluster is as you want)`),
  ];
  if (!resetDone) warnings.push(`the cluster's API is down from the first stop until ${first.name} runs again; containers keep running meanwhile, unmanaged.`);
  if (backup.node !== first.name)
    warnings.push(
      `the snapshot was taken on ${backup.node}; it is restored on ${first.name}, the inventory's first server (any server's snapshot holds the whole cluster).`,
    );
  return { first: first.name, snapshotPath: path, run, done, steps, lost, kept, warnings };
}

export function describeRestoreStep(step: RestoreStep): string {
  switch (step.kind) {
    case 'stop-agent':
      return `stop K3s on agent ${step.node} (systemctl stop k3s-agent)`;
    case 'stop-server':
      return `stop K3s on server ${step.node} (systemctl stop k3s)`;
    case 'upload-snapshot':
      return `upload the snapshot to ${step.node}:${step.path} (0600), checked by sha256`;
    case 'record-run':
      return `on ${step.node}: write ${RESTORE_RECORD_PATH} (0600) naming the backup and run ${step.run}, so that a re-run of an interrupted restore continues where it stopped`;
    case 'cluster-reset':
      return `on ${step.node}: ${buildClusterResetCommand(step.path)} — restores the snapshot as a one-member etcd cluster and exits`;
    case 'start-first-server':
      return `start K3s on ${step.node} (systemctl start k3s); wait until it is Ready and EtcdIsVoter=True`;
    case 'move-db-aside':
      return `on ${step.node}: move ${SERVER_DB_DIR} to ${step.to}`;
    case 'start-server':
      return `start K3s on ${step.node}; it rejoins as a new etcd member: wait until it is Ready and EtcdIsVoter=True`;
    case 'start-agent':
      return `start K3s on agent ${step.node} (systemctl start k3s-agent)`;
    case 'check':
      return `check: every node Ready (${[...step.servers, ...step.agents].join(', ')}), etcd members = the servers (${step.servers.join(', ')}), all voters`;
    case 'clear-record':
      return `on ${step.node}: remove ${RESTORE_RECORD_PATH} (the restore is complete)`;
  }
}

/** The plan as text: what is restored where, the numbered steps, what is lost, what is kept, the warnings. */
export function formatRestorePlan(cluster: string, backup: RestoreBackup, plan: RestorePlan): string {
  const lines = [
    `restore cluster ${cluster} from backup ${backup.name} (taken on ${backup.node} at ${backup.createdAt}${backup.k3sVersion ? `, K3s ${backup.k3sVersion}` : ''}):`,
  ];
  if (plan.refused !== undefined) lines.push(`Refused: ${plan.refused}`);
  else {
    if (plan.done.length > 0) {
      lines.push(`Already done by an interrupted run of this restore (run ${plan.run}):`, ...plan.done.map((d) => `  - ${d}`));
      lines.push('What remains:');
    }
    plan.steps.forEach((s, i) => lines.push(`  ${i + 1}. ${describeRestoreStep(s)}`));
    lines.push('Lost for good:', ...plan.lost.map((l) => `  - ${l}`));
    lines.push('Kept aside:', ...plan.kept.map((k) => `  - ${k}`));
  }
  for (const w of plan.warnings) lines.push(`Warning: ${w}`);
  return lines.join('\n') + '\n';
}
