/** Options every node command shares: the router (program.ts) parses them, the commands read them. */
export interface CommonOptions {
  inventory: string;
  yes?: boolean;
  json?: boolean;
  verbose?: boolean;
  concurrency: number;
  strict?: boolean;
  stateDir?: string;
}
