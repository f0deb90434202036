import type { AccessInfo } from './access-info.js';
import type { InventoryIssue } from './errors.js';
import type { NodeStatus } from './events.js';

export type StepStatus = 'changed' | 'unchanged' | 'planned' | 'failed' | 'skipped';

export interface StepReport {
  phase: string;
  step: string;
  status: StepStatus;
  /** What changed (or, in a plan, what would change), one sentence each. */
  changes: string[];
  error?: string;
}

export interface NodeReport {
  name: string;
  host: string;
  role: 'server' | 'agent';
  status: NodeStatus;
  steps: StepReport[];
  warnings: string[];
  error?: string;
  facts?: { model: string; os: string; arch: string; kernel: string; pageSize: number; memoryBytes: number; memoryCgroup: boolean };
  sshConnections?: number;
  /** Commands run on the node (round trips), file writes included. */
  sshCommands?: number;
  rebooted?: boolean;
}

/** The cluster-wide outcome of the workloads phase (per-node outcomes live in the node reports). */
export interface WorkloadsReport {
  ok: boolean;
  changed: boolean;
  /** Whether the no-op check matched the last apply (then nothing was re-applied), and why not. */
  fastPath?: { taken: boolean; reason?: string };
  summary: string;
  error?: string;
  capacity?: unknown;
  access?: AccessInfo;
  pruned?: string[];
  /** Objects holding data no longer deployed and left in the cluster (no consent to delete them); in a plan, those up would ask about. */
  keptData?: string[];
  /** The kubectl commands that delete keptData by hand. */
  deleteDataCommands?: string[];
  phases?: unknown[];
}

export interface RunReport {
  command: 'up' | 'plan';
  cluster: string;
  ok: boolean;
  exitCode: number;
  durationMs: number;
  /** CPU time (user + system) this revue-pi process used, start-up included: the benchmark tells it from the nodes'. */
  cpuMs?: number;
  /** The most memory this revue-pi process held at once (peak resident set), in MiB. */
  peakMemoryMiB?: number;
  offline?: boolean;
  logFile?: string;
  nodes: NodeReport[];
  /** The K3s phase: which server came first, where the token came from, where the kubeconfig went. */
  k3s?: {
    firstServer?: string;
    token?: string;
    kubeconfigPath?: string;
    /** Nodes in the cluster the inventory does not list. */
    notInInventory?: string[];
    /** Nodes on an older K3s than the inventory asks for: `up` does not change versions; `revue-pi upgrade` does. */
    behind?: { version: string; nodes: string[] };
  };
  workloads?: WorkloadsReport;
  /** The ssh config's warnings (file:line: what is not followed), as shown on stderr. */
  sshConfigWarnings?: string[];
  /** MetalLB pools or fixed addresses outside every probed node's subnet: warned about in a plan, refused by up without --force. */
  addressWarnings?: string[];
  /** Wall time of each phase, in the order they ended. */
  phases?: { phase: string; ok: boolean; durationMs: number }[];
  /** What the inventory's rules warned about (even server count, Wi-Fi without promiscuous mode…), with line:column. */
  inventoryWarnings?: InventoryIssue[];
}

/** A node's overall status from its steps: failed beats changed beats unchanged. */
export function nodeStatusFromSteps(steps: StepReport[], error?: string): NodeStatus {
  if (error || steps.some((s) => s.status === 'failed')) return 'failed';
  if (steps.some((s) => s.status === 'changed' || s.status === 'planned')) return 'changed';
  return 'unchanged';
}

export const EXIT_OK = 0;
export const EXIT_NODE_FAILED = 1;
export const EXIT_BAD_INPUT = 2;
