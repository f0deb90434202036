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
