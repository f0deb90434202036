import { sh, type ShellScript } from '../../core/remote/shell.js';
import type { Inventory, InventoryNode } from '../../core/inventory/schema.js';
import { buildInstallScript } from '../install.js';
import { UPGRADE_MARK_LABEL, type ClusterView } from './cluster-view.js';
import type { Datastore, EtcdMember } from './etcd.js';

/**
 * `revue-pi upgrade`, the deciding half: which version, whether going there is allowed (no downgrade, no skipped minor
 * version, every node known and up), and in what order — servers one at a time, then agents in bounded batches, each
 * cordoned, drained, installed with the new version, waited for and uncordoned. Pure; upgrade-run.ts does the work.
 * Contract: test/lab/k3s-standin/README.md, "Upgrade contract" (docs.k3s.io upgrades/manual, pkg/etcd/etcd.go).
 */

export interface K3sVersion {
  major: number;
  minor: number;
  patch: number;
  k3s: number;
}

/** `v1.36.4+k3s1` → its numbers; undefined for anything else (the inventory's k3s.version format). */
export function parseK3sVersion(text: string | undefined): K3sVersion | undefined {
  const m = /^v(\d+)\.(\d+)\.(\d+)\+k3s(\d+)$/.exec(text ?? '');
  return m ? { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), k3s: Number(m[4]) } : undefined;
}

export function compareK3sVersions(a: K3sVersion, b: K3sVersion): number {
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch || a.k3s - b.k3s;
}

/** What upgrade knows of one node: the inventory's entry and what the cluster says of it. */
export interface UpgradeNodeFacts {
  name: string;
  role: 'server' | 'agent';
  inInventory: boolean;
  inCluster: boolean;
  version?: string;
  ready?: string;
  unschedulable: boolean;
  /** Cordoned by an earlier upgrade run that did not finish it (UPGRADE_MARK_LABEL). */
  marked: boolean;
}

export interface UpgradeInput {
  cluster: string;
  inventoryPath: string;
  target: string;
  /** Where the target came from, for the messages. */
  targetFrom: '--to' | 'k3s.version';
  nodes: UpgradeNodeFacts[];
  datastore: Datastore;
  members?: EtcdMember[];
  agentBatch: number;
  drainTimeoutSeconds: number;
  backupFolder: string;
  kubeconfigPath: string;
}

export interface NodeUpgrade {
  name: string;
  role: 'server' | 'agent';
  from: string;
  /** upgrade: cordon, drain, install, wait, uncordon; finish: an interrupted run left it cordoned at the target: wait, uncordon. */
  action: 'upgrade' | 'finish';
  /** It was cordoned before revue-pi touched it: it stays cordoned. */
  keepCordoned: boolean;
}

export type UpgradePlan =
  | { refused: string; warnings: string[] }
  | {
      refused?: undefined;
      target: string;
      datastore: Datastore;
      /** An etcd snapshot (with token and config.yaml) is taken first. */
      backup: boolean;
      servers: NodeUpgrade[];
      agentBatches: NodeUpgrade[][];
      /** Already at the target and not cordoned by revue-pi. */
      upToDate: string[];
      /** What a single SQLite server cannot guarantee (asked for on its own). */
      cannotGuarantee: string[];
      warnings: string[];
    };

const names = (nodes: { name: string }[]) => nodes.map((n) => n.name).join(', ');
const countOf = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export function planUpgrade(input: UpgradeInput): UpgradePlan {
  const warnings: string[] = [];
  const { target, nodes } = input;
  const wanted = parseK3sVersion(target)!;
  const whence = input.targetFrom === '--to' ? 'given with --to' : `the inventory's k3s.version`;
  const nothing = 'Nothing was changed.';

  const missing = nodes.filter((n) => n.inInventory && !n.inCluster);
  if (missing.length > 0)
    return {
      refused: `${names(missing)} ${missing.length === 1 ? 'is' : 'are'} in ${input.inventoryPath} but not in cluster ${input.cluster}: upgrade works on the cluster as it runs. Run revue-pi up -i ${input.inventoryPath} first (it installs them), then upgrade. ${nothing}`,
      warnings,
    };
  const strangers = nodes.filter((n) => !n.inInventory);
  if (strangers.length > 0)
    return {
      refused: `${names(strangers)} ${strangers.length === 1 ? 'is' : 'are'} in cluster ${input.cluster} but not in ${input.inventoryPath}, so revue-pi cannot reach ${strangers.length === 1 ? 'it' : 'them'} over SSH to upgrade: put ${strangers.length === 1 ? 'it' : 'them'} back in the inventory, or remove ${strangers.length === 1 ? 'it' : 'them'} (revue-pi remove-node NAME). ${nothing}`,
      warnings,
    };
  const unknown = nodes.filter((n) => !parseK3sVersion(n.version));
  if (unknown.length > 0)
    return {
      refused: `the K3s version of ${unknown.map((n) => `${n.name} (${n.version ?? 'none reported'})`).join(', ')} is not one revue-pi can compare: upgrade them by hand (docs.k3s.io/upgrades/manual). ${nothing}`,
      warnings,
    };
  const newer = nodes.filter((n) => compareK3sVersions(parseK3sVersion(n.version)!, wanted) > 0);
  if (newer.length > 0)
    return {
      refused: `${newer.map((n) => `${n.name} runs ${n.version}`).join(', ')}, newer than ${target} (${whence}): that would be a downgrade, which K3s does not support. Pick a version at least as new, or go back by restoring an etcd snapshot taken before the upgrade (revue-pi backup --list). ${nothing}`,
      warnings,
    };
  const behind = nodes.filter((n) => {
    const v = parseK3sVersion(n.version)!;
    return v.major !== wanted.major || v.minor < wanted.minor - 1;
  });
  if (behind.length > 0) {
    const oldest = behind.map((n) => parseK3sVersion(n.version)!).sort(compareK3sVersions)[0]!;
    const next = oldest.major === wanted.major ? `v${oldest.major}.${oldest.minor + 1}` : `the next minor version`;
    return {
      refused: `${target} (${whence}) skips a minor version: ${behind.map((n) => `${n.name} runs ${n.version}`).join(', ')}. Kubernetes upgrades one minor version at a time (docs.k3s.io/upgrades/manual, version skew policy). Upgrade to the newest ${next} release first (revue-pi upgrade -i ${input.inventoryPath} --to ${next}.N+k3sM), then to ${target}. ${nothing}`,
      warnings,
    };
  }

  const pending = nodes.filter((n) => n.version !== target || n.marked);
  // Another node down (not one revue-pi left mid-upgrade): stopping a server now could cost etcd its quorum.
  const down = nodes.filter((n) => n.ready !== 'True' && !n.marked);
  if (pending.length > 0 && down.length > 0)
    return {
      refused: `${down.map((n) => `${n.name} is not Ready (${n.ready ?? 'no status'})`).join(', ')}: upgrading the others now could stop the cluster (a server restarting while another is down can cost etcd its quorum). Bring ${down.length === 1 ? 'it' : 'them'} back, or remove ${down.length === 1 ? 'it' : 'them'} (revue-pi remove-node NAME), then run upgrade again. ${nothing}`,
      warnings,
    };
  const learners = (input.members ?? []).filter((m) => m.isLearner);
  if (pending.length > 0 && learners.length > 0)
    return {
      refused: `etcd member ${names(learners)} is still a learner (not yet a voter): wait until every server shows EtcdIsVoter=True (kubectl get nodes), then run upgrade again. ${nothing}`,
      warnings,
    };
  if (input.datastore === 'none')
    return {
      refused: `the servers of cluster ${input.cluster} have neither embedded etcd nor SQLite data: is K3s installed? Run revue-pi status. ${nothing}`,
      warnings,
    };

  const toUpgrade = (n: UpgradeNodeFacts): NodeUpgrade => ({
    name: n.name,
    role: n.role,
    from: n.version!,
    action: n.version === target ? 'finish' : 'upgrade',
    keepCordoned: n.unschedulable && !n.marked,
  });
  const servers = pending.filter((n) => n.role === 'server').map(toUpgrade);
  const agents = pending.filter((n) => n.role === 'agent').map(toUpgrade);
  const agentBatches: NodeUpgrade[][] = [];
  for (let i = 0; i < agents.length; i += input.agentBatch) agentBatches.push(agents.slice(i, i + input.agentBatch));
  for (const n of [...servers, ...agents].filter((u) => u.keepCordoned))
    warnings.push(`${n.name} was cordoned before the upgrade (not by revue-pi): it is drained and upgraded, and left cordoned.`);
  const cannotGuarantee =
    input.datastore === 'sqlite' && pending.length > 0
      ? [
          `cluster ${input.cluster} keeps its state in SQLite on its single server, not in embedded etcd: no snapshot can be taken first (revue-pi backup explains how to copy it by hand, K3s stopped);`,
          `the cluster's API is down while that server restarts with the new version (there is no other server to answer), and its pods are not moved anywhere during it.`,
        ]
      : [];
  return {
    target,
    datastore: input.datastore,
    backup: input.datastore === 'etcd' && pending.length > 0,
    servers,
    agentBatches,
    upToDate: nodes.filter((n) => !pending.includes(n)).map((n) => n.name),
    cannotGuarantee,
    warnings,
  };
}

/** Nothing to change: every node runs the target and none was left cordoned. */
export function upgradeIsNoop(plan: UpgradePlan): boolean {
  return plan.refused === undefined && plan.servers.length === 0 && plan.agentBatches.length === 0;
}

export function describeNodeUpgrade(u: NodeUpgrade, target: string, drainTimeoutSeconds: number): string {
  const wait =
    u.role === 'server'
      ? `wait until it reports ${target}, Ready, EtcdIsVoter=True, its /readyz ok and every etcd member a voter`
      : `wait until it reports ${target} and Ready`;
  const uncordon = u.keepCordoned ? 'leave it cordoned (it was before)' : 'uncordon';
  if (u.action === 'finish') return `${u.name} (already ${target}, left cordoned by an interrupted run): ${wait}, ${uncordon}`;
  return `${u.name} ${u.from} → ${target}: cordon, drain (PodDisruptionBudgets respected, at most ${drainTimeoutSeconds} s), install ${target} with its config.yaml, ${wait}, ${uncordon}`;
}

/** The plan as text: what runs where, in order; what is already done; the warnings. */
export function formatUpgradePlan(
  input: Pick<UpgradeInput, 'cluster' | 'targetFrom' | 'backupFolder' | 'kubeconfigPath' | 'drainTimeoutSeconds' | 'agentBatch'>,
  plan: UpgradePlan,
): string {
  if (plan.refused !== undefined) return `Refused: ${plan.refused}\n`;
  const lines = [
    `revue-pi upgrade of cluster ${input.cluster} to ${plan.target} (${input.targetFrom === '--to' ? '--to' : 'k3s.version'}), ${plan.datastore === 'etcd' ? 'embedded etcd' : 'SQLite'}:`,
  ];
  if (upgradeIsNoop(plan)) {
    lines.push(`  nothing to do: every node runs ${plan.target}.`);
    return lines.join('\n') + '\n';
  }
  let step = 0;
  if (plan.backup)
    lines.push(`  ${++step}. etcd snapshot on a server, copied with the server token and config.yaml to ${input.backupFolder}/ (as revue-pi backup)`);
  if (plan.servers.length > 0) lines.push(`  servers, one at a time:`);
  for (const s of plan.servers) lines.push(`  ${++step}. ${describeNodeUpgrade(s, plan.target, input.drainTimeoutSeconds)}`);
  if (plan.agentBatches.length > 0) lines.push(`  agents, at most ${input.agentBatch} at a time:`);
  for (const batch of plan.agentBatches) {
    step++;
    batch.forEach((a, i) =>
      lines.push(`  ${i === 0 ? `${step}.` : ' '.repeat(`${step}.`.length)} ${describeNodeUpgrade(a, plan.target, input.drainTimeoutSeconds)}`),
    );
  }
  lines.push(`  ${++step}. merge the cluster's kubeconfig again into ${input.kubeconfigPath}`);
  if (plan.upToDate.length > 0) lines.push(`Already at ${plan.target}: ${plan.upToDate.join(', ')}.`);
  for (const c of plan.cannotGuarantee) lines.push(`Not guaranteed: ${c}`);
  for (const w of plan.warnings) lines.push(`Warning: ${w}`);
  return lines.join('\n') + '\n';
}

/** How many nodes a plan touches, for the question. */
export function upgradeSummary(plan: Exclude<UpgradePlan, { refused: string }>): string {
  const agents = plan.agentBatches.flat().length;
  return [plan.servers.length ? countOf(plan.servers.length, 'server') : '', agents ? countOf(agents, 'agent') : ''].filter(Boolean).join(' and ');
}

// ---- commands -------------------------------------------------------------------------------------------

/** The installer with the target version and a forced restart, reading the node's config.yaml as it is. */
export function buildUpgradeInstallScript(inventory: Inventory, node: InventoryNode, target: string): ShellScript {
  const pinned: Inventory = { ...inventory, k3s: { ...inventory.k3s, version: target, channel: undefined } };
  return buildInstallScript(pinned, node, { role: node.role, forceRestart: true });
}

export function buildMarkCommand(node: string): ShellScript {
  return sh`k3s kubectl label node ${node} ${`${UPGRADE_MARK_LABEL}=true`} --overwrite`;
}

export function buildUnmarkCommand(node: string): ShellScript {
  return sh`k3s kubectl label node ${node} ${`${UPGRADE_MARK_LABEL}-`}`;
}

export const NODES_READ_COMMAND = sh`k3s kubectl get nodes -o json --request-timeout=10s`;

/** Run on the upgraded server itself: its apiserver's readiness, which includes its local etcd member. */
export const READYZ_COMMAND = sh`k3s kubectl get --raw /readyz --request-timeout=10s`;

/**
 * Whether a node is back after its upgrade, from the cluster's node list (and, for a server, etcd's members and its own
 * /readyz); the reason when not yet.
 */
export function nodeBackState(
  view: ClusterView,
  u: { name: string; role: 'server' | 'agent' },
  target: string,
  etcd?: { members: EtcdMember[]; expected: number; readyz: boolean },
): string | undefined {
  const node = view.nodes.find((n) => n.name === u.name);
  if (!node) return `${u.name} is not in the node list`;
  if (node.version !== target) return `${u.name} still reports ${node.version ?? 'no version'}`;
  if (node.ready !== 'True') return `${u.name} is not Ready (${node.ready ?? 'no status'})`;
  if (!etcd) return undefined;
  if (node.etcdVoter !== 'True') return `${u.name}'s EtcdIsVoter is ${node.etcdVoter ?? 'not set'}`;
  if (!etcd.readyz) return `${u.name}'s /readyz is not ok (its etcd is not serving yet)`;
  const learners = etcd.members.filter((m) => m.isLearner);
  if (learners.length > 0) return `etcd member ${names(learners)} is a learner`;
  if (etcd.members.length !== etcd.expected) return `etcd lists ${etcd.members.length} members, not ${etcd.expected}`;
  return undefined;
}
