import { sh, type ShellScript } from '../../core/remote/shell.js';
import type { K3sUnit } from '../../core/k3s-paths.js';
import { buildJournalCommand } from '../nodes.js';
import type { NodeView } from './cluster-view.js';
import type { EtcdMember } from './etcd.js';
import { STOP_SERVER_COMMAND } from './remove-node-commands.js';
import { SERVER_DB_DIR } from './restore-record.js';

/**
 * `revue-pi restore`'s commands and its readings of what they printed (pure): the units stopped and started, the
 * snapshot's checksum, K3s's `--cluster-reset` in the foreground, a db/ moved aside, and when a node counts as back.
 * restore.ts plans with them, restore-run.ts runs them.
 */

/** What K3s logs when the reset is done, just before it exits 0 (pkg/etcd/etcd.go Reset()). */
export const RESET_DONE_MESSAGE = 'Managed etcd cluster membership has been reset';
/** The reset runs in the foreground and exits by itself; this bounds it. */
export const RESET_TIMEOUT_SECONDS = 600;

export const STOP_AGENT_COMMAND = sh`systemctl stop k3s-agent`;
export const START_AGENT_COMMAND = sh`systemctl start k3s-agent`;
export const START_SERVER_COMMAND = sh`systemctl start k3s`;
export { STOP_SERVER_COMMAND };

/** The snapshot's sha256 on the server, when it is there (nothing printed otherwise). */
export function buildSnapshotChecksumProbe(path: string): ShellScript {
  return sh`if [ -f ${path} ]; then sha256sum ${path}; fi`;
}

/**
 * K3s's restore, in the foreground (it reads config.yaml, so the token-file there, like the unit does). It exits by
 * itself once the reset is done; `timeout` bounds it should it not.
 */
export function buildClusterResetCommand(path: string): ShellScript {
  return sh`timeout -k 10 ${RESET_TIMEOUT_SECONDS} k3s server --cluster-reset --cluster-reset-restore-path=${path}`;
}

/**
 * Prints the unit's last journal lines and exits 1 when it has failed (K3s exited with a fatal error: waiting for it to
 * become Ready is pointless); prints nothing while it runs or starts.
 */
export function buildUnitFailedProbe(unit: K3sUnit): ShellScript {
  return sh`if systemctl is-failed --quiet ${unit}; then ${buildJournalCommand(unit, 5)}; exit 1; fi`;
}

/** Whether the reset's output says it is done (its exit code alone does not: a killed run also ends). */
export function resetSucceeded(output: string): boolean {
  return output.includes(RESET_DONE_MESSAGE);
}

/** The other servers' db/ goes aside (the docs delete it); a run interrupted after the move finds it gone and moves nothing. */
export function buildMoveDbAsideCommand(to: string): ShellScript {
  return sh`if [ -d ${SERVER_DB_DIR} ]; then mv ${SERVER_DB_DIR} ${to} && echo moved; else echo absent; fi`;
}

/** A node restarted after the restore: Ready posted after the snapshot's time (a Ready from the snapshot itself does not count). */
export function readySinceSnapshot(node: NodeView | undefined, snapshotTime: string): boolean {
  if (!node || node.ready !== 'True' || !node.readyHeartbeat) return false;
  // The snapshot's name carries whole seconds (K3s truncates): a heartbeat restored with it is before the next second.
  return Date.parse(node.readyHeartbeat) >= Date.parse(snapshotTime) + 1000;
}

/** A restarted server is done when it is Ready since the restore and its etcd member a voter. */
export function serverRejoined(node: NodeView | undefined, snapshotTime: string): boolean {
  return readySinceSnapshot(node, snapshotTime) && node!.etcdVoter === 'True';
}

/** What the final check finds wrong (empty: all well): nodes not Ready, members that are not the servers, learners. */
export function restoreProblems(p: { nodes: NodeView[]; members: EtcdMember[]; servers: string[]; agents: string[]; snapshotTime: string }): string[] {
  const problems: string[] = [];
  for (const name of [...p.servers, ...p.agents]) {
    const n = p.nodes.find((x) => x.name === name);
    if (!readySinceSnapshot(n, p.snapshotTime)) problems.push(`node ${name} is not Ready (${n ? `Ready=${n.ready ?? '?'}` : 'no Node'})`);
  }
  const memberNodes = p.members.map((m) => memberNode(m.name)).sort();
  if (memberNodes.join(',') !== [...p.servers].sort().join(','))
    problems.push(`etcd members are ${p.members.map((m) => m.name).join(', ') || 'none'}, not one for each server (${p.servers.join(', ')})`);
  const learners = p.members.filter((m) => m.isLearner).map((m) => m.name);
  if (learners.length > 0) problems.push(`etcd member${learners.length > 1 ? 's' : ''} ${learners.join(', ')} still a learner`);
  return problems;
}

/** `<node>-<8 hex>` → `<node>` (K3s names members so, pkg/etcd setName). */
export function memberNode(member: string): string {
  const at = member.lastIndexOf('-');
  return at > 0 ? member.slice(0, at) : member;
}
