/**
 * Steps never print: they emit these events, and ui/ renders them (spinner on a TTY, plain lines
 * otherwise, one JSON report with --json). Messages must never carry secrets.
 */
export type NodeStatus = 'changed' | 'unchanged' | 'failed' | 'skipped';

export type RunEvent =
  | { type: 'phase-start'; phase: string; title: string }
  | { type: 'phase-end'; phase: string; ok: boolean }
  | {
      type: 'node-step';
      phase: string;
      node: string;
      step: string;
      status: 'running' | 'done' | 'changed' | 'unchanged' | 'planned' | 'failed';
      detail?: string;
    }
  | { type: 'node-warning'; node: string; message: string }
  | { type: 'node-done'; node: string; status: NodeStatus; error?: string }
  | { type: 'info'; message: string }
  | { type: 'warning'; message: string };

export type EmitEvent = (event: RunEvent) => void;
