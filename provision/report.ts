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
  rebooted?: boolean;
}

export interface RunReport {
  command: 'up' | 'plan';
  cluster: string;
  ok: boolean;
  exitCode: number;
  durationMs: number;
  offline?: boolean;
  logFile?: string;
  nodes: NodeReport[];
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
