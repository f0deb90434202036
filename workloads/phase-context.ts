/** What the workloads phase's parts share: its options and result, its bounds, and small helpers. */
import { RevuePiError } from '../core/errors.js';
import type { EmitEvent } from '../core/events.js';
import type { Inventory, InventoryNode } from '../core/inventory/schema.js';
import type { RunLog } from '../core/log.js';
import type { NodeFacts } from '../core/node-facts.js';
import { RemoteKubectl, type Kubectl } from '../core/kube/index.js';
import type { Transport } from '../core/remote/transport.js';
import { type ShellScript } from '../core/remote/shell.js';
import { type Resources } from './checks.js';
import { type AccessInfo } from './access.js';
import { type Phase } from './render.js';

export interface WorkloadsPhaseOptions {
  command: 'up' | 'plan';
  inventory: Inventory;
  stateDir: string;
  emit: EmitEvent;
  log: RunLog;
  firstServer: { node: InventoryNode; transport: Transport };
  /** Reads the API (default: `k3s kubectl` through the first server's transport). Seam for tests: FakeKubectl. */
  kubectl?: Kubectl;
  /** Every node in the cluster with its facts (capacity check, ARMv8.2 labels). */
  nodes: { node: InventoryNode; facts: NodeFacts }[];
  /** Apply even when the workloads' minimum requests do not fit (`up --force`). */
  force?: boolean;
  /**
   * Skip the no-op fast path (workloads/fastpath.ts) and apply every phase (`up --reapply`). The fast path trusts
   * the record of the last complete apply: it sees objects deleted by hand and workloads not ready, but not a
   * field edited by hand (kubectl edit) — a re-apply puts those back.
   */
  reapply?: boolean;
  /**
   * Delete objects that hold data (volume claims, namespaces, charts with volumes) that the inventory no longer
   * renders (`up --prune-data`). Without it, and without `confirmDataRemoval` saying yes, they are kept.
   */
  pruneData?: boolean;
  /** Asks the operator, on its own, whether to delete these data-holding objects (a terminal; undefined: never asked). */
  confirmDataRemoval?: (removals: string[]) => Promise<boolean>;
  /** Bound of each apply phase, apply and wait together (default 10 min: image pulls on a Pi are slow). */
  phaseTimeoutMs?: number;
  /** `kubectl get nodes -o json` from moments ago (the cluster phase's last Ready check): labels are planned from it. */
  nodesJson?: string;
  /**
   * The fast check's output as the first server's probe read it (fastCheckProbeSection), when nothing changed since:
   * used instead of asking again if its command is the one this render needs.
   */
  probedFastCheck?: { command: ShellScript; output: string };
  /**
   * How long a chart whose install Job succeeded may lack release workloads before up gives up on it (default 20 s):
   * right after a chart's values change, K3s's previous Job is still there, complete, until its controller replaces it.
   */
  releaseSettleMs?: number;
  /** Seams for tests. */
  pollIntervalMs?: number;
  random?: (bytes: number) => Buffer;
  /** Package root holding workloads/ (default: found from this module). */
  root?: string;
}

export type WorkloadStepStatus = 'changed' | 'unchanged' | 'planned' | 'failed' | 'skipped';

export interface WorkloadPhaseReport {
  phase: Phase;
  objects: number;
  created: number;
  configured: number;
  unchanged: number;
  status: WorkloadStepStatus;
  /** `plan`: what would be applied. */
  plan?: string;
  /** How many apply attempts (more than 1: MetalLB's webhook was not ready yet). */
  attempts?: number;
  durationMs: number;
  error?: string;
}

export interface WorkloadsPhaseResult {
  ok: boolean;
  /** Something in the cluster changed (or, in a plan, would change). */
  changed: boolean;
  /** Sentence(s) naming what failed and why; absent when ok. */
  error?: string;
  capacity?: { verdict: 'ok' | 'warn' | 'refuse'; atMinimum: Resources; atMaximum: Resources; allocatable: Resources; messages: string[]; forced?: boolean };
  /** Node label changes made (or planned). */
  nodeLabels: string[];
  phases: WorkloadPhaseReport[];
  /** Objects removed because the inventory no longer renders them (`Kind namespace/name`); planned ones in a plan. */
  pruned: string[];
  /**
   * Objects holding data that the inventory no longer renders, left in the cluster because no one consented to
   * deleting them (`up --prune-data` or the cluster name typed at a terminal); in a plan, those up would ask about.
   * `deleteDataCommands` deletes them by hand.
   */
  keptData: string[];
  deleteDataCommands: string[];
  /** Where the workload secrets are kept (never their values). */
  secretsFile?: string;
  access?: AccessInfo;
  /** One line for the summary, e.g. "120 objects: 3 created, 1 configured, 116 unchanged; 0 pruned". */
  summary: string;
  /**
   * The no-op fast path: taken (nothing applied, nothing waited for: the cluster is as the last complete apply left
   * it), or why not (then the full path ran). Absent when not tried (`reapply`, or the phase stopped earlier).
   */
  fastPath?: { taken: boolean; reason?: string };
}

export const PHASE = 'workloads';
export const DEFAULT_PHASE_TIMEOUT_MS = 600_000;
export const DEFAULT_RELEASE_SETTLE_MS = 20_000;

/** The one way the phase reads the API: opts.kubectl, else `k3s kubectl` through the first server's transport. */
export function kubectlOf(opts: WorkloadsPhaseOptions): Kubectl {
  return opts.kubectl ?? new RemoteKubectl(opts.firstServer.transport);
}

export function fail(opts: WorkloadsPhaseOptions, result: WorkloadsPhaseResult, text: string): void {
  result.ok = false;
  result.error = result.error ? `${result.error} ${text}` : text;
  opts.log.write(`[${opts.firstServer.node.name}] workloads failed: ${text}`);
}

export function seconds(ms: number): string {
  return ms < 10_000 ? String(Math.round(ms / 100) / 10) : String(Math.round(ms / 1000));
}

export function message(error: unknown): string {
  if (error instanceof RevuePiError) return error.hint ? `${error.message} ${error.hint}` : error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
