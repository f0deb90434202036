import yaml from 'js-yaml';
import type { InventoryNode } from '../core/inventory/schema.js';
import { type NodeFacts, supportsArmV82 } from '../core/node-facts.js';
import { ARMV82_LABEL, type K8sObject, type NodeCapacity, podSpecOf } from './render.js';

/**
 * Pure capacity check before applying: the CPU and memory the rendered workloads request at their minimum replica
 * counts and with every autoscaler at its maximum, against what the nodes can give (their capacity from the facts
 * minus a reserve for the OS and K3s itself). Totals only — the scheduler packs per node, so "fits" is necessary,
 * not sufficient; the largest single pod and the MongoDB placement are checked per node.
 */

export interface Resources {
  cpuMillis: number;
  memoryBytes: number;
}

export interface WorkloadDemand {
  /** `Kind namespace/name`. */
  workload: string;
  perPod: Resources;
  minReplicas: number;
  maxReplicas: number;
  /** Pods only schedulable on ARMv8.2 nodes (MongoDB). */
  needsArmv82: boolean;
}

export interface CapacityReport {
  allocatable: Resources;
  atMinimum: Resources;
  atMaximum: Resources;
  /** refuse: the minimum does not fit (apply only with --force); warn: the maximum does not fit; ok: both fit. */
  verdict: 'ok' | 'warn' | 'refuse';
  /** Sentences for the operator: the two figures, then each problem. */
  messages: string[];
  demands: WorkloadDemand[];
}

/** What the OS, K3s and the bundled system pods (CoreDNS, metrics-server, local-path, Traefik's own share) keep per node. */
export const DEFAULT_RESERVE: Record<'server' | 'agent', Resources> = {
  server: { cpuMillis: 500, memoryBytes: 1024 * 1024 * 1024 },
  agent: { cpuMillis: 200, memoryBytes: 384 * 1024 * 1024 },
};

const MEMORY_UNITS: Record<string, number> = {
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
  Ti: 1024 ** 4,
};

/** Kubernetes CPU quantity (`250m`, `1`, `1.5`) → millicores. */
export function parseCpu(quantity: string | number): number {
  const text = String(quantity).trim();
  const m = /^([0-9]+(?:\.[0-9]+)?)(m?)$/.exec(text);
  if (!m) throw new Error(`"${text}" is not a CPU quantity (e.g. 250m or 1)`);
  const n = Number(m[1]);
  return Math.round(m[2] === 'm' ? n : n * 1000);
}

/** Kubernetes memory quantity (`128Mi`, `1Gi`, `500M`, `1048576`) → bytes. */
export function parseMemory(quantity: string | number): number {
  const text = String(quantity).trim();
  const m = /^([0-9]+(?:\.[0-9]+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(text);
  if (!m) throw new Error(`"${text}" is not a memory quantity (e.g. 128Mi or 1Gi)`);
  return Math.round(Number(m[1]) * (MEMORY_UNITS[m[2] ?? ''] ?? 1));
}

interface ResourceBlock {
  requests?: { cpu?: string | number; memory?: string | number };
}

function requestsOf(block: ResourceBlock | undefined): Resources {
  return {
    cpuMillis: block?.requests?.cpu === undefined ? 0 : parseCpu(block.requests.cpu),
    memoryBytes: block?.requests?.memory === undefined ? 0 : parseMemory(block.requests.memory),
  };
}

function sum(a: Resources, b: Resources, times = 1): Resources {
  return { cpuMillis: a.cpuMillis + b.cpuMillis * times, memoryBytes: a.memoryBytes + b.memoryBytes * times };
}

const ZERO: Resources = { cpuMillis: 0, memoryBytes: 0 };

function dig(values: unknown, path: string[]): unknown {
  let cur = values;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur;
}

/**
 * Pods a HelmChart or HelmChartConfig creates, read from the requests in its valuesContent at the chart's known value
 * paths (per-node DaemonSets marked). Charts not listed here count as nothing.
 */
const CHART_PODS: Record<string, { path: string[]; perNode?: boolean }[]> = {
  prometheus: [
    { path: ['server', 'resources'] },
    { path: ['configmapReload', 'prometheus', 'resources'] },
    { path: ['kube-state-metrics', 'resources'] },
    { path: ['prometheus-node-exporter', 'resources'], perNode: true },
  ],
  grafana: [{ path: ['resources'] }],
  traefik: [{ path: ['resources'] }],
};

/** Per-workload demand of the rendered objects. `nodeCount` multiplies DaemonSets and per-node chart pods. */
export function workloadDemands(objects: K8sObject[], nodeCount: number): WorkloadDemand[] {
  const hpaByTarget = new Map<string, { min: number; max: number }>();
  for (const o of objects) {
    if (o.kind !== 'HorizontalPodAutoscaler') continue;
    const spec = o.spec as { scaleTargetRef: { kind: string; name: string }; minReplicas?: number; maxReplicas: number };
    hpaByTarget.set(`${spec.scaleTargetRef.kind} ${o.metadata.namespace ?? ''}/${spec.scaleTargetRef.name}`, {
      min: spec.minReplicas ?? 1,
      max: spec.maxReplicas,
    });
  }
  const demands: WorkloadDemand[] = [];
  for (const o of objects) {
    const id = `${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`;
    const pod = podSpecOf(o);
    if (pod) {
      const perPod = pod.containers.reduce((acc, c) => sum(acc, requestsOf(c.resources as ResourceBlock)), ZERO);
      const needsArmv82 = JSON.stringify(pod.affinity ?? {}).includes(ARMV82_LABEL);
      if (o.kind === 'DaemonSet') {
        demands.push({ workload: id, perPod, minReplicas: nodeCount, maxReplicas: nodeCount, needsArmv82 });
        continue;
      }
      const hpa = hpaByTarget.get(id);
      const replicas = (o.spec as { replicas?: number }).replicas ?? 1;
      demands.push({ workload: id, perPod, minReplicas: hpa?.min ?? replicas, maxReplicas: hpa?.max ?? replicas, needsArmv82 });
      continue;
    }
    if (o.kind === 'HelmChart' || o.kind === 'HelmChartConfig') {
      const spec = o.spec as { chart?: string; valuesContent?: string };
      const chart = o.kind === 'HelmChart' ? (spec.chart ?? o.metadata.name) : o.metadata.name;
      const values = spec.valuesContent ? yaml.load(spec.valuesContent) : {};
      for (const p of CHART_PODS[chart] ?? []) {
        const perPod = requestsOf(dig(values, p.path) as ResourceBlock | undefined);
        const n = p.perNode ? nodeCount : 1;
        demands.push({
          workload: `${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name} (${p.path.join('.')})`,
          perPod,
          minReplicas: n,
          maxReplicas: n,
          needsArmv82: false,
        });
      }
    }
  }
  return demands;
}

/** A node's capacity facts as checkCapacity takes them (the same test decides the ARMV82_LABEL node label). */
export function nodeCapacityFrom(
  node: Pick<InventoryNode, 'name' | 'role'>,
  facts: Pick<NodeFacts, 'cpuCores' | 'memoryBytes' | 'model' | 'arch'>,
): NodeCapacity {
  return { name: node.name, cpuCores: facts.cpuCores, memoryBytes: facts.memoryBytes, role: node.role, armv82: supportsArmV82(facts) };
}

/** Allocatable resources of the nodes: capacity minus the reserve for their role (agent when unknown). */
export function allocatableOf(nodes: NodeCapacity[], reserve = DEFAULT_RESERVE): Resources {
  return nodes.reduce((acc, n) => sum(acc, nodeAllocatable(n, reserve)), ZERO);
}

function nodeAllocatable(n: NodeCapacity, reserve = DEFAULT_RESERVE): Resources {
  const r = reserve[n.role ?? 'agent'];
  return {
    cpuMillis: Math.max(0, Math.round(n.cpuCores * 1000) - r.cpuMillis),
    memoryBytes: Math.max(0, n.memoryBytes - r.memoryBytes),
  };
}

export function formatResources(r: Resources): string {
  const cpu = (r.cpuMillis / 1000).toFixed(1);
  const gib = (r.memoryBytes / 1024 ** 3).toFixed(1);
  return `${cpu} CPU / ${gib} GiB`;
}

/** The capacity verdict for the rendered objects on these nodes. Pure. */
export function checkCapacity(objects: K8sObject[], nodes: NodeCapacity[], reserve = DEFAULT_RESERVE): CapacityReport {
  const demands = workloadDemands(objects, nodes.length);
  const atMinimum = demands.reduce((acc, d) => sum(acc, d.perPod, d.minReplicas), ZERO);
  const atMaximum = demands.reduce((acc, d) => sum(acc, d.perPod, d.maxReplicas), ZERO);
  const allocatable = allocatableOf(nodes, reserve);
  const fits = (need: Resources, have: Resources) => need.cpuMillis <= have.cpuMillis && need.memoryBytes <= have.memoryBytes;

  const messages = [
    `The workloads request ${formatResources(atMinimum)} at their minimum replicas and ${formatResources(atMaximum)} ` +
      `with every autoscaler at its maximum; the nodes can give ${formatResources(allocatable)} ` +
      `(${nodes.length} node${nodes.length === 1 ? '' : 's'}, after a reserve for the OS and K3s).`,
  ];
  let refuse = false;
  let warn = false;

  if (!fits(atMinimum, allocatable)) {
    refuse = true;
    messages.push(
      `The minimum (${formatResources(atMinimum)}) does not fit in ${formatResources(allocatable)}: add nodes, or turn off ` +
        `workloads in the inventory (workloads.monitoring, workloads.kafkaUi), or run with --force to apply anyway.`,
    );
  } else if (!fits(atMaximum, allocatable)) {
    warn = true;
    messages.push(
      `At full scale (${formatResources(atMaximum)}) the autoscalers will hit the cluster's limit of ${formatResources(allocatable)}; ` +
        `pods beyond it stay Pending.`,
    );
  }

  const perNode = nodes.map((n) => ({ node: n, free: nodeAllocatable(n, reserve) }));
  for (const d of demands) {
    if (d.minReplicas === 0) continue;
    const candidates = perNode.filter((p) => !d.needsArmv82 || p.node.armv82 !== false);
    if (d.needsArmv82 && candidates.length === 0 && nodes.length > 0) {
      refuse = true;
      messages.push(
        `${d.workload} runs MongoDB, which needs an ARMv8.2-A CPU (Raspberry Pi 5), but no node has one ` +
          `(node label ${ARMV82_LABEL}=true): add a Pi 5 to the inventory.`,
      );
      continue;
    }
    if (candidates.length > 0 && !candidates.some((p) => fits(d.perPod, p.free))) {
      refuse = true;
      messages.push(`A pod of ${d.workload} requests ${formatResources(d.perPod)}, more than any single node can give.`);
    }
  }

  const mongo = demands.filter((d) => d.needsArmv82);
  const armNodes = nodes.filter((n) => n.armv82 === true);
  if (mongo.length > 0 && armNodes.length > 0 && armNodes.length < nodes.length) {
    const need = mongo.reduce((acc, d) => sum(acc, d.perPod, d.minReplicas), ZERO);
    const have = allocatableOf(armNodes, reserve);
    if (!fits(need, have)) {
      refuse = true;
      messages.push(
        `The MongoDB instances request ${formatResources(need)} but the ARMv8.2 nodes (${armNodes.map((n) => n.name).join(', ')}) ` +
          `can give only ${formatResources(have)}.`,
      );
    }
  }

  return { allocatable, atMinimum, atMaximum, verdict: refuse ? 'refuse' : warn ? 'warn' : 'ok', messages, demands };
}
