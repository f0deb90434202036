/** What the cluster phase's parts share: its options and result, one node's session, and small helpers. */
import { RevuePiError } from '../core/errors.js';
import type { EmitEvent } from '../core/events.js';
import type { Inventory, InventoryNode } from '../core/inventory/schema.js';
import type { RunLog } from '../core/log.js';
import type { NodeReport, StepReport } from '../core/report.js';
import type { Transport } from '../core/remote/transport.js';
import { type K3sFacts } from './facts.js';
import { buildJournalCommand } from './nodes.js';
import { type ClusterChange, type NodeReplacement, type ReplacementConsent } from './plan.js';
import { type RandomSource } from './token.js';
import { stripControlChars } from '../core/remote/remote-text.js';

export interface ClusterNodeInput {
  node: InventoryNode;
  /** Absent for `plan --offline`. */
  transport?: Transport;
  k3s: K3sFacts;
  report: NodeReport;
  /**
   * Resolves once the node is ready for K3s (its preparation, reboot included, is done), with its K3s facts as probed
   * then; undefined when its preparation failed (it is then left out). Absent: ready now, with `k3s`.
   */
  ready?: Promise<K3sFacts | undefined>;
}

export interface ClusterPhaseOptions {
  command: 'up' | 'plan';
  inventory: Inventory;
  stateDir: string;
  concurrency: number;
  emit: EmitEvent;
  log: RunLog;
  /** Every inventory node; those whose report already has an error are left alone. */
  nodes: ClusterNodeInput[];
  /** Where the kubeconfig is merged; default: KUBECONFIG's first path, else ~/.kube/config. */
  kubeconfigPath?: string;
  /** The inventory file as given (-i), named in the upgrade command a version mismatch suggests. */
  inventoryPath?: string;
  readyTimeoutMs: number;
  /**
   * up --replace-node NAME: consent, for those nodes only, to delete what stops them joining under their name again —
   * a rebuilt first server's stale Node and etcd member, a re-imaged node's Node and node-password secret. Otherwise
   * confirmNodeReplacement asks (a terminal without --yes); without either nothing is deleted and the node fails,
   * saying how to consent.
   */
  replaceNodes?: string[];
  confirmNodeReplacement?: (removal: NodeReplacement) => Promise<boolean>;
  /** Seams for tests: token randomness, polling cadence, the environment used to resolve the kubeconfig path. */
  random?: RandomSource;
  pollIntervalMs?: number;
  journalCheckIntervalMs?: number;
  env?: NodeJS.ProcessEnv;
}

export interface ClusterPhaseResult {
  firstServer?: string;
  /** Where the cluster token came from this run. */
  token?: 'state' | 'recovered' | 'generated' | 'none-yet';
  kubeconfigPath?: string;
  /**
   * Nodes the cluster has that the inventory does not list (a board taken out of it): up never removes them itself; it
   * names them with the command that does (revue-pi remove-node).
   */
  notInInventory?: string[];
  /** Nodes on an older K3s than the inventory asks for (versionsBehind): up offers revue-pi upgrade for them. */
  behind?: { version: string; nodes: string[] };
  /**
   * The node list (`kubectl get nodes -o json`) that showed every node Ready at the end of the phase: the workloads
   * phase labels nodes from it instead of asking again. Not for the report.
   */
  readyNodesJson?: string;
}

export const PHASE = 'cluster';
export const STEP = 'k3s';

export interface Session extends ClusterNodeInput {
  step: StepReport;
  changes: ClusterChange[];
  /** Its preparation failed while this phase ran: not part of it. */
  leftOut?: boolean;
  /** The node-password rejection, once seen this run: its clearing (consent, deletion), which later looks await. */
  passwordFix?: Promise<void>;
  /** Its unit was restarted after the clearing. */
  passwordRestarted?: boolean;
  /** Once cleared: the report's line, given once (undefined after that). */
  passwordCleared?: (restartedUnit?: string) => string | undefined;
  /** When this run restarted its K3s, by the node's clock: only a heartbeat since then counts as Ready. */
  restartedAt?: number;
  /** First server only, when it joins a live server (it was rebuilt): that server's session, which removes its stale member. */
  joinVia?: Session;
}

// ---- helpers ------------------------------------------------------------------------------------------------

/** The operator's consent to a deletion asked for on its own: --replace-node naming the node, else the question. */
export async function consentToReplace(opts: ClusterPhaseOptions, removal: NodeReplacement): Promise<ReplacementConsent | undefined> {
  if (opts.replaceNodes?.includes(removal.node)) return 'flag';
  return opts.confirmNodeReplacement && (await opts.confirmNodeReplacement(removal)) ? 'typed' : undefined;
}

export function fail(opts: ClusterPhaseOptions, s: Session, text: string): void {
  s.report.error = text;
  s.step.status = 'failed';
  s.step.error = text;
  opts.log.write(`[${s.node.name}] cluster failed: ${text}`);
  opts.emit({ type: 'node-step', phase: PHASE, node: s.node.name, step: STEP, status: 'failed', detail: text });
}

export function formatSeconds(ms: number): string {
  return ms < 10_000 ? String(Math.round(ms / 100) / 10) : String(Math.round(ms / 1000));
}

export function summary(changes: string[]): string | undefined {
  if (changes.length === 0) return undefined;
  return changes.length === 1 ? changes[0] : `${changes.length} changes: ${changes.join('; ')}`;
}

export function message(error: unknown): string {
  if (error instanceof RevuePiError) return error.hint ? `${error.message} ${error.hint}` : error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}

/** Sleeps, waking early (checked every 50 ms) when `stop` turns true. */
export async function sleep(ms: number, stop?: () => boolean): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (stop?.()) return;
    await new Promise((r) => setTimeout(r, Math.min(50, end - Date.now())));
  }
}

export async function journalTail(transport: Transport, unit: 'k3s' | 'k3s-agent'): Promise<string> {
  try {
    const result = await transport.run(buildJournalCommand(unit), { sudo: true, timeoutMs: 15_000 });
    // Shown to the operator as it is: no control sequence from the node's journal may reach the terminal.
    return stripControlChars(result.stdout).trim();
  } catch {
    return '';
  }
}
