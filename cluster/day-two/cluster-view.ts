import {
  buildKubectlGetCommand,
  ofKind,
  parseKubeList,
  type KubeNode,
  type KubePersistentVolume,
  type KubePod,
  type KubeQuery,
} from '../../core/kube/index.js';
/**
 * What remove-node reads of the cluster, in one `k3s kubectl get` on a server that stays: the nodes (role, address,
 * Ready, etcd member, cordoned), the pods (their controller, whether a drain may evict them) and the PersistentVolumes
 * tied to one node's disk. Pure: the command and its parser.
 */

/** One read of what the plan needs (run with sudo on a server: k3s kubectl uses /etc/rancher/k3s/k3s.yaml). */
export const CLUSTER_READ_QUERY: KubeQuery = {
  resources: ['nodes', 'pods', 'poddisruptionbudgets.policy', 'persistentvolumes'],
  allNamespaces: true,
  requestTimeoutSeconds: 20,
};
export const CLUSTER_READ_COMMAND = buildKubectlGetCommand(CLUSTER_READ_QUERY);

export interface NodeView {
  name: string;
  role: 'server' | 'agent';
  /** InternalIP, else the k3s.io/internal-ip annotation. */
  address?: string;
  ready?: 'True' | 'False' | 'Unknown';
  /** etcd.k3s.cattle.io/node-name: its etcd member. */
  etcdMember?: string;
  /** The Ready condition's lastHeartbeatTime (ISO): when the kubelet last posted it. */
  readyHeartbeat?: string;
  unschedulable: boolean;
  /** status.nodeInfo.kubeletVersion: the K3s version its running kubelet reports. */
  version?: string;
  /** Its EtcdIsVoter condition (K3s's etcd member management), on etcd servers. */
  etcdVoter?: 'True' | 'False' | 'Unknown';
  /** The UPGRADE_MARK_LABEL's value: `revue-pi upgrade` cordoned it and has not finished it yet. */
  upgradeMark?: string;
}

/** Set by `revue-pi upgrade` on a node it cordons, removed when it uncordons it: what a resumed run finishes. */
export const UPGRADE_MARK_LABEL = 'upgrade.revue-pi.io/cordoned';

export interface PodView {
  namespace: string;
  name: string;
  node?: string;
  /** Kind of its controller owner (ReplicaSet, StatefulSet, DaemonSet, Job…); undefined: none. */
  controller?: string;
  mirror: boolean;
  /** Succeeded or Failed. */
  done: boolean;
  emptyDir: boolean;
}

export interface ClusterView {
  nodes: NodeView[];
  pods: PodView[];
  /** PersistentVolumes tied to one node's disk (nodeAffinity on kubernetes.io/hostname, as local-path makes them). */
  localVolumes: { name: string; node: string; claim?: string }[];
}

/** The view from what CLUSTER_READ_COMMAND printed. Throws a sentence naming the command and the field that did not fit. */
export function parseClusterView(json: string): ClusterView {
  const items = parseKubeList(json, { command: CLUSTER_READ_COMMAND.text });
  return {
    nodes: ofKind(items, 'Node').map(nodeView),
    pods: ofKind(items, 'Pod').map(podView),
    localVolumes: ofKind(items, 'PersistentVolume').flatMap((pv) => localVolume(pv) ?? []),
  };
}

function nodeView(node: KubeNode): NodeView {
  const meta = node.metadata ?? {};
  const labels = meta.labels ?? {};
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready')?.status;
  const voter = node.status?.conditions?.find((c) => c.type === 'EtcdIsVoter')?.status;
  const heartbeat = node.status?.conditions?.find((c) => c.type === 'Ready')?.lastHeartbeatTime;
  const version = node.status?.nodeInfo?.kubeletVersion;
  const address = node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address || meta.annotations?.['k3s.io/internal-ip'];
  const etcdMember = meta.annotations?.['etcd.k3s.cattle.io/node-name'];
  const server = ['control-plane', 'master', 'etcd'].some((r) => labels[`node-role.kubernetes.io/${r}`] === 'true');
  return {
    name: meta.name ?? '',
    role: server ? 'server' : 'agent',
    ...(address ? { address } : {}),
    ...(ready === 'True' || ready === 'False' || ready === 'Unknown' ? { ready } : {}),
    ...(etcdMember ? { etcdMember } : {}),
    unschedulable: node.spec?.unschedulable === true,
    ...(version ? { version } : {}),
    ...(voter === 'True' || voter === 'False' || voter === 'Unknown' ? { etcdVoter: voter } : {}),
    ...(heartbeat ? { readyHeartbeat: heartbeat } : {}),
    ...(labels[UPGRADE_MARK_LABEL] !== undefined ? { upgradeMark: labels[UPGRADE_MARK_LABEL] } : {}),
  };
}

function podView(pod: KubePod): PodView {
  const meta = pod.metadata ?? {};
  const controller = (meta.ownerReferences ?? []).find((r) => r.controller)?.kind;
  const node = pod.spec?.nodeName;
  return {
    namespace: meta.namespace ?? '',
    name: meta.name ?? '',
    ...(node !== undefined ? { node } : {}),
    ...(controller ? { controller } : {}),
    mirror: Boolean(meta.annotations?.['kubernetes.io/config.mirror']),
    done: pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed',
    emptyDir: (pod.spec?.volumes ?? []).some((v) => v.emptyDir !== undefined),
  };
}

/** A PersistentVolume tied to one node's disk (nodeAffinity on kubernetes.io/hostname), else undefined. */
function localVolume(pv: KubePersistentVolume): ClusterView['localVolumes'][number] | undefined {
  const terms = pv.spec?.nodeAffinity?.required?.nodeSelectorTerms ?? [];
  const node = terms.flatMap((t) => t.matchExpressions ?? []).find((e) => e.key === 'kubernetes.io/hostname' && e.operator === 'In' && e.values?.length === 1)
    ?.values?.[0];
  if (!node) return undefined;
  const claim = pv.spec?.claimRef;
  return { name: pv.metadata?.name ?? '', node, ...(claim?.name ? { claim: `${claim.namespace}/${claim.name}` } : {}) };
}
