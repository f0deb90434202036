import { API_PORT } from '../../core/k3s-paths.js';
import type { ClusterView } from './cluster-view.js';
import { quorum, type EtcdMember } from './etcd.js';

export { CLUSTER_READ_COMMAND, parseClusterView, type ClusterView, type NodeView, type PodView } from './cluster-view.js';

/**
 * `revue-pi remove-node NAME`, the deciding half: what the cluster says about the node (read on a server that stays),
 * whether removing it is safe (etcd quorum), and the steps, in K3s's documented order — drain; for a server, stop K3s on
 * it before its Node is deleted (the etcd member goes with the Node, and a running server would rejoin); check the
 * member is gone; uninstall. Pure; remove-node-commands.ts holds the commands, remove-node-run.ts does the work. Contract: test/lab/k3s-standin/README.md.
 */

// ---- the plan -------------------------------------------------------------------------------------------

export interface RemovalInput {
  name: string;
  cluster: string;
  view: ClusterView;
  /** etcd's members (/db/info); undefined: the cluster has no embedded etcd (a single SQLite server). */
  members?: EtcdMember[];
  /** The server commands run on; it stays. */
  via: { name: string; host: string };
  inInventory: boolean;
  /** SSH to the node worked (undefined: no address to try). */
  reachable?: boolean;
  unreachableReason?: string;
  drainTimeoutSeconds: number;
  /** The kubeconfig context revue-pi merged, when there is one: its file and server URL. */
  kubeconfig?: { path: string; server: string };
  /** Names and addresses the node is known by (the cluster's, the inventory's). */
  hosts: string[];
  /** State files that hold something of the node. */
  stateFiles: string[];
}

export type RemovalStep =
  | { kind: 'drain'; node: string; via: string; timeoutSeconds: number; pods: string[] }
  | { kind: 'stop-k3s'; node: string }
  | { kind: 'delete-node'; node: string; via: string; member?: string }
  | { kind: 'check-member-gone'; member: string; via: string }
  | { kind: 'uninstall'; node: string; role: 'server' | 'agent' }
  | { kind: 'repoint-kubeconfig'; path: string; from: string; to: string }
  | { kind: 'forget-state'; node: string; files: string[] };

export interface RemovalTarget {
  name: string;
  role: 'server' | 'agent';
  address?: string;
  ready?: string;
  etcdMember?: string;
  etcdVoter?: boolean;
  reachable?: boolean;
  inInventory: boolean;
  inCluster: boolean;
}

export type RemovalPlan =
  | { refused: string; target?: RemovalTarget; warnings: string[] }
  | { refused?: undefined; target: RemovalTarget; steps: RemovalStep[]; warnings: string[]; destructive: string[] };

const K8S_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export function isNodeName(name: string): boolean {
  return K8S_NAME.test(name) && name.length <= 63;
}

export function planRemoval(input: RemovalInput): RemovalPlan {
  const { name, view } = input;
  const warnings: string[] = [];
  const node = view.nodes.find((n) => n.name === name);
  const members = input.members;
  const member = members?.find((m) => (node?.etcdMember ? m.name === node.etcdMember : m.name.startsWith(`${name}-`) && input.hosts.includes(m.host)));
  const target: RemovalTarget = {
    name,
    role: node?.role ?? (member ? 'server' : 'agent'),
    ...(node?.address ? { address: node.address } : {}),
    ...(node?.ready ? { ready: node.ready } : {}),
    ...(member ? { etcdMember: member.name, etcdVoter: !member.isLearner } : {}),
    ...(input.reachable !== undefined ? { reachable: input.reachable } : {}),
    inInventory: input.inInventory,
    inCluster: node !== undefined,
  };
  if (!node && !member && !input.inInventory) {
    const known = view.nodes.map((n) => n.name).join(', ') || 'none';
    return { refused: `node ${name} is neither in cluster ${input.cluster} (its nodes: ${known}) nor in the inventory: nothing to remove.`, warnings };
  }
  const isServer = target.role === 'server';
  const unreachable = input.reachable === false;

  if (isServer && !members) {
    return {
      refused: `node ${name} is the only server of cluster ${input.cluster} (SQLite datastore, no etcd): removing it would leave no server. Tear the cluster down instead: revue-pi reset.`,
      target,
      warnings,
    };
  }
  if (isServer && unreachable && node?.ready === 'True') {
    return {
      refused: `server ${name} does not answer over SSH (${input.unreachableReason ?? 'unreachable'}) but its K3s still reports Ready: revue-pi cannot stop it first, and a server whose Node is deleted while K3s runs crashes and rejoins the cluster. Fix SSH to it, or power it off, and run again.`,
      target,
      warnings,
    };
  }
  if (isServer && members && member) {
    const voters = members.filter((m) => !m.isLearner);
    const others = voters.filter((m) => m.name !== member.name);
    const readyOf = (m: EtcdMember) => view.nodes.find((n) => n.etcdMember === m.name)?.ready;
    const up = others.filter((m) => readyOf(m) === 'True');
    if (members.length === 1)
      return { refused: `server ${name} is the only etcd member of cluster ${input.cluster}: removing it would leave no server.`, target, warnings };
    if (!member.isLearner && up.length < quorum(voters.length)) {
      const learners = members.filter((m) => m.isLearner).map((m) => m.name);
      return {
        refused:
          `removing server ${name} would leave ${up.length} of the ${voters.length} voting etcd members running while it is stopped, and etcd needs ${quorum(voters.length)} (a majority) to answer: the cluster would stop. ` +
          (voters.length === 2
            ? 'A cluster of 2 servers cannot lose one: add a third server first (put it in the inventory, revue-pi up), then remove this one.'
            : `Bring the other servers back${learners.length ? ` (or wait: ${learners.join(', ')} ${learners.length > 1 ? 'are' : 'is'} still an etcd learner)` : ''}, or add servers, first.`),
        target,
        warnings,
      };
    }
    const after = member.isLearner ? voters.length : voters.length - 1;
    if (after > 0 && after % 2 === 0) {
      warnings.push(
        `after this, ${after} servers (etcd voters) remain: an even number tolerates no more failures than ${after - 1} would (etcd needs ${quorum(after)} of ${after})${after === 2 ? ', so losing either of the 2 stops the cluster' : ''}. Add a server, or remove one more, to get an odd number.`,
      );
    }
  } else if (isServer && node && !member) {
    warnings.push(
      `server ${name} has no etcd member any more (a removal was interrupted?): only its Node${input.reachable ? ' and K3s on it' : ''} are left to remove.`,
    );
  }

  const steps: RemovalStep[] = [];
  const destructive: string[] = [];
  const podsHere = view.pods.filter((p) => p.node === name && !p.mirror && !p.done);
  if (node && input.reachable && node.ready !== 'True') {
    // Its kubelet is not posting status (K3s stopped, e.g. by an interrupted removal): evicted pods would never finish
    // terminating and the drain would only wait out its timeout.
    warnings.push(
      `${name} is not Ready (${node.ready ?? 'no status'}): it is not drained; its pods go with its Node and their controllers start them elsewhere.`,
    );
  } else if (node && input.reachable) {
    const unmanaged = podsHere.filter((p) => !p.controller);
    if (unmanaged.length > 0) {
      return {
        refused: `pods with no controller run on ${name} (${unmanaged.map((p) => `${p.namespace}/${p.name}`).join(', ')}): draining would delete them for good, and revue-pi does not force that. Move or delete them yourself, then run again.`,
        target,
        warnings,
      };
    }
    const evicted = podsHere.filter((p) => p.controller !== 'DaemonSet');
    steps.push({
      kind: 'drain',
      node: name,
      via: input.via.name,
      timeoutSeconds: input.drainTimeoutSeconds,
      pods: evicted.map((p) => `${p.namespace}/${p.name}`),
    });
    const scratch = evicted.filter((p) => p.emptyDir);
    if (scratch.length > 0)
      destructive.push(`the emptyDir volumes of ${scratch.map((p) => `${p.namespace}/${p.name}`).join(', ')} (scratch space, deleted with their pods)`);
  } else if (node && unreachable) {
    warnings.push(
      `${name} does not answer over SSH (${input.unreachableReason ?? 'unreachable'}): only the cluster-side steps are done. It is not drained (its pods go with its Node; their controllers start them elsewhere) and K3s is not uninstalled on it: if it comes back, run \`sudo /usr/local/bin/${isServer ? 'k3s-uninstall.sh' : 'k3s-agent-uninstall.sh'}\` on it before it rejoins${node.ready === 'True' ? '. It still reports Ready: its K3s keeps running until then' : ''}.`,
    );
  }
  if (isServer && node && input.reachable) steps.push({ kind: 'stop-k3s', node: name });
  if (node) {
    steps.push({ kind: 'delete-node', node: name, via: input.via.name, ...(member ? { member: member.name } : {}) });
    destructive.push(`Node ${name}${member ? ` and its etcd member ${member.name}` : ''}`);
  }
  if (member) steps.push({ kind: 'check-member-gone', member: member.name, via: input.via.name });
  if (input.reachable) {
    steps.push({ kind: 'uninstall', node: name, role: target.role });
    destructive.push(`K3s on ${name} with its data (/var/lib/rancher/k3s, /etc/rancher/k3s)`);
  }
  for (const v of input.view.localVolumes.filter((v) => v.node === name)) {
    destructive.push(
      `PersistentVolume ${v.name}${v.claim ? ` (claim ${v.claim})` : ''}, which lives on ${name}'s disk: its data goes with the node, and its pod stays Pending`,
    );
  }
  const kubeconfigHost = input.kubeconfig ? urlHost(input.kubeconfig.server) : undefined;
  if (isServer && input.kubeconfig && kubeconfigHost && input.hosts.includes(kubeconfigHost)) {
    steps.push({ kind: 'repoint-kubeconfig', path: input.kubeconfig.path, from: input.kubeconfig.server, to: `https://${input.via.host}:${API_PORT}` });
  }
  if (input.stateFiles.length > 0) steps.push({ kind: 'forget-state', node: name, files: input.stateFiles });
  if (input.inInventory) warnings.push(`node ${name} is still in the inventory: take it out there, or the next revue-pi up installs it again.`);
  if (steps.length === 0)
    return { refused: `node ${name} is not in cluster ${input.cluster} and does not answer over SSH: nothing revue-pi can remove.`, target, warnings };
  return { target, steps, warnings, destructive };
}

function urlHost(url: string): string | undefined {
  try {
    return new URL(url).hostname.replace(/^\[(.*)\]$/, '$1');
  } catch {
    return undefined;
  }
}

export function describeStep(step: RemovalStep): string {
  switch (step.kind) {
    case 'drain':
      return `cordon and drain ${step.node} on ${step.via}: evict ${step.pods.length === 0 ? 'its pods (none now besides DaemonSets)' : step.pods.join(', ')}, respecting PodDisruptionBudgets, for at most ${step.timeoutSeconds} s`;
    case 'stop-k3s':
      return `stop K3s on ${step.node} (systemctl stop k3s), so that it cannot rejoin when its Node is deleted`;
    case 'delete-node':
      return `delete Node ${step.node} on ${step.via}${step.member ? ` (K3s removes its etcd member ${step.member} with it)` : ''}`;
    case 'check-member-gone':
      return `check on ${step.via} that etcd member ${step.member} is gone (k3s kubectl get --raw /db/info)`;
    case 'uninstall':
      return `uninstall K3s on ${step.node} (/usr/local/bin/${step.role === 'server' ? 'k3s-uninstall.sh' : 'k3s-agent-uninstall.sh'}, and the other one if both are there)`;
    case 'repoint-kubeconfig':
      return `re-point the cluster's context in ${step.path} from ${step.from} to ${step.to}`;
    case 'forget-state':
      return `forget ${step.node} in the state directory (${step.files.join(', ')})`;
  }
}

/** The plan as text: the node, the numbered steps, what is destroyed, the warnings. */
export function formatPlan(cluster: string, plan: RemovalPlan): string {
  const t = plan.target;
  const lines: string[] = [];
  if (t) {
    const facts = [
      t.role,
      t.address,
      t.inCluster ? `Ready=${t.ready ?? '?'}` : 'not in the cluster',
      t.etcdMember ? `etcd ${t.etcdVoter ? 'voter' : 'learner'} ${t.etcdMember}` : undefined,
      t.reachable === undefined ? undefined : t.reachable ? 'reachable over SSH' : 'unreachable over SSH',
    ];
    lines.push(`remove-node ${t.name} from cluster ${cluster} (${facts.filter(Boolean).join(', ')}):`);
  }
  if (plan.refused !== undefined) {
    lines.push(`Refused: ${plan.refused}`);
  } else {
    plan.steps.forEach((s, i) => lines.push(`  ${i + 1}. ${describeStep(s)}`));
    if (plan.destructive.length > 0) lines.push('Deleted for good:', ...plan.destructive.map((d) => `  - ${d}`));
  }
  for (const w of plan.warnings) lines.push(`Warning: ${w}`);
  return lines.join('\n') + '\n';
}
