import { NODE_LIST_QUERY, buildKubectlGetCommand, ofKind, parseKubeList, type KubeItem } from '../core/kube/index.js';
import { sh, type ShellScript } from '../core/remote/shell.js';
import type { K3sUnit } from '../core/k3s-paths.js';

/** Readiness and node-object commands, run on the first server through the transport (sudo): the laptop never talks to the API. */
export const GET_NODES_COMMAND = buildKubectlGetCommand(NODE_LIST_QUERY);

export interface NodeReadiness {
  name: string;
  ready: boolean;
  /** kubelet version, e.g. v1.33.5+k3s1 */
  version: string;
  /**
   * When the node's kubelet last posted its Ready condition (lastHeartbeatTime), in whole seconds since the epoch of
   * that node's own clock; undefined when the API gave none.
   */
  heartbeat?: number;
}

/** Each node's Ready condition and kubelet version, from a node list. */
export function nodesReadyOf(items: readonly KubeItem[]): NodeReadiness[] {
  return ofKind(items, 'Node').map((node) => {
    const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
    const heartbeat = Date.parse(ready?.lastHeartbeatTime ?? '');
    return {
      name: node.metadata?.name ?? '',
      ready: ready?.status === 'True',
      version: node.status?.nodeInfo?.kubeletVersion ?? '',
      ...(Number.isNaN(heartbeat) ? {} : { heartbeat: Math.floor(heartbeat / 1000) }),
    };
  });
}

/** The same from what `kubectl get nodes -o json` printed (the probe's copy). Throws a sentence naming the command and field. */
export function parseNodesReady(kubectlJson: string): NodeReadiness[] {
  return nodesReadyOf(parseKubeList(kubectlJson, { command: GET_NODES_COMMAND.text, kind: 'Node' }));
}

export function buildJournalCommand(unit: K3sUnit, lines = 20): ShellScript {
  return sh`journalctl -u ${unit} -n ${lines} --no-pager`;
}

/** A re-imaged node joining under its old name: K3s refuses it until the old node object and password secret are gone. */
export function isNodePasswordRejected(journalText: string): boolean {
  return /Node password rejected/i.test(journalText);
}

/**
 * Removes a node object and its node-password secret. "not found" counts as done, so a retry after a partial run
 * succeeds.
 */
export function buildForgetNodeScript(name: string): ShellScript {
  const notFoundIsDone = sh`case "$out" in *NotFound*|*"not found"*) ;; *) echo "$out" >&2; rc=1 ;; esac`;
  return sh`rc=0
out=$(k3s kubectl delete node ${name} 2>&1) || ${notFoundIsDone}
out=$(k3s kubectl -n kube-system delete secret ${`${name}.node-password.k3s`} 2>&1) || ${notFoundIsDone}
exit $rc
`;
}

/**
 * `--no-block` for agents: an agent that cannot join would keep `systemctl restart` waiting forever (TimeoutStartSec=0).
 * The node's clock is printed first (restartedAt reads it): its Node object stays Ready for a while after the old
 * K3s stops, so the Ready wait accepts only a heartbeat posted after this moment, by the K3s that was just started.
 */
export function buildRestartCommand(unit: K3sUnit): ShellScript {
  return sh`date +%s && ${unit === 'k3s' ? sh`systemctl restart k3s` : sh`systemctl restart --no-block k3s-agent`}`;
}

/** The node's clock (seconds since the epoch) that buildRestartCommand printed; undefined if its output lacks it. */
export function restartedAt(stdout: string): number | undefined {
  const match = /^(\d{9,})$/m.exec(stdout);
  return match ? Number(match[1]) : undefined;
}

/**
 * Whether a Ready node has been Ready since its K3s was (re)started at `since` (the node's clock): its kubelet posts its
 * status when it starts, so a heartbeat older than that is the previous K3s's. Without either time: Ready as listed.
 */
export function readySince(node: NodeReadiness, since: number | undefined): boolean {
  return node.ready && (since === undefined || node.heartbeat === undefined || node.heartbeat >= since);
}

/**
 * Why K3s on a node cannot join, from its journal, when the cause will not go away by waiting: the cluster refused its
 * token, or the token names another cluster's CA. K3s keeps retrying these for ever; undefined for anything else.
 */
export function joinRefusal(journalText: string): string | undefined {
  if (/token CA hash does not match/i.test(journalText)) return "its token names another cluster's CA (token CA hash does not match)";
  if (/401 Unauthorized/.test(journalText)) return 'the cluster refused its token (401 Unauthorized)';
  return undefined;
}
