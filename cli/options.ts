/** Options every node command shares: the router (program.ts) parses them, the commands read them. */
export interface CommonOptions {
  inventory: string;
  yes?: boolean;
  json?: boolean;
  verbose?: boolean;
  /** Absent: every node at once, up to MAX_NODES_AT_ONCE (core/runner.ts). */
  concurrency?: number;
  strict?: boolean;
  stateDir?: string;
}

/** How long a drain (remove-node, upgrade) may wait for evictions, in seconds, when --drain-timeout is not given. */
export const DEFAULT_DRAIN_TIMEOUT_SECONDS = 120;
/** Agents `revue-pi upgrade` takes at the same time when --agent-batch is not given. */
export const DEFAULT_AGENT_BATCH = 2;
