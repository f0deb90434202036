import type { EmitEvent } from '../core/events.js';
import type { Inventory, InventoryNode } from '../core/inventory/schema.js';
import type { RunLog } from '../core/log.js';
import type { Transport } from '../core/remote/transport.js';
import type { NodeReplacement } from '../cluster/plan.js';

/** One line of the plan `up` shows before asking: a node (or the workloads) and its changes, described. */
export interface PendingNode {
  node: string;
  changes: string[];
}

export type OpenTransport = (node: InventoryNode) => Promise<Transport>;

export interface PipelineOptions {
  command: 'up' | 'plan';
  inventory: Inventory;
  /** Nodes worked on at once: absent, every node up to MAX_NODES_AT_ONCE (core/runner.ts). */
  concurrency?: number;
  strict: boolean;
  emit: EmitEvent;
  log: RunLog;
  /** Absent for `plan --offline`: no connection is opened and every node is assumed fresh. */
  openTransport?: OpenTransport;
  stateDir: string;
  /** The inventory file as given (-i), to name it in the commands messages suggest. */
  inventoryPath?: string;
  /** Where the kubeconfig is merged (--kubeconfig); default KUBECONFIG's first path, else ~/.kube/config. */
  kubeconfigPath?: string;
  /** Apply the workloads even when their minimum requests do not fit (up --force). */
  force?: boolean;
  /** Re-apply every workload phase even when the cluster matches the last apply (up --reapply). */
  reapply?: boolean;
  /** Asked once, after the plan, before anything changes (TTY without --yes). */
  confirm?: (pending: PendingNode[]) => Promise<boolean>;
  /** Delete data-holding objects the inventory no longer deploys (up --prune-data); see WorkloadsPhaseOptions. */
  pruneData?: boolean;
  /** Asks on its own whether to delete those (a terminal without --yes); absent: they are kept unless pruneData. */
  confirmDataRemoval?: (removals: string[]) => Promise<boolean>;
  /** Delete what stops these nodes joining under their name again (up --replace-node NAME); see ClusterPhaseOptions. */
  replaceNodes?: string[];
  /** Asks on its own, right before, whether to delete it (a terminal without --yes); absent: kept unless replaceNodes. */
  confirmNodeReplacement?: (removal: NodeReplacement) => Promise<boolean>;
}

/** The options as the pipeline's parts see them: the concurrency decided. */
export type RunOptions = PipelineOptions & { concurrency: number };
