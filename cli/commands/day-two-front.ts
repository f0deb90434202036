import type { Inventory, InventoryNode } from '../../core/inventory/schema.js';
import { withCommandLock } from '../../core/lock.js';
import { RunLog } from '../../core/log.js';
import type { Transport } from '../../core/remote/transport.js';
import { EXIT_BAD_INPUT } from '../../core/report.js';
import { resolveSshOrReport } from '../../core/ssh-config/report.js';
import type { ResolvedInventorySsh } from '../../core/ssh-config/resolve.js';
import { ensurePrivateDir, stateDirFor } from '../../core/state.js';

/**
 * The plumbing the day-two command fronts (backup, remove-node, upgrade, reset, restore; kubeconfig in part) share:
 * their test seams, the process's streams as the default, and the way from a checked inventory to the cluster —
 * node SSH settings resolved (warnings printed), the state folder made private, then the work run under the
 * cluster's lock (a dry run only reads, so it takes none) with its run log and a transport opener.
 * Each front keeps its own checks, in its own order, before calling runOnCluster: bad input exits 2 before any
 * connection, and nothing here contacts a node.
 */

/** Seams for tests; default: the SSH transport and the process's streams. */
export interface CommandSeams {
  openTransport?: (node: InventoryNode) => Promise<Transport>;
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
}

/** The seams of a front that may ask at the terminal. */
export interface AskingSeams extends CommandSeams {
  /** Whether there is a terminal to ask at; default: whether standard input is one. */
  interactive?: boolean;
}

export interface Streams {
  out: (text: string) => void;
  err: (text: string) => void;
}

export function streamsOf(seams: CommandSeams): Streams {
  return {
    out: seams.stdout ?? ((t: string) => void process.stdout.write(t)),
    err: seams.stderr ?? ((t: string) => void process.stderr.write(t)),
  };
}

export function isInteractive(seams: AskingSeams): boolean {
  return seams.interactive ?? Boolean(process.stdin.isTTY);
}

/** Refuses before any contact: the message on stderr, or with --json as one object on stdout; exit 2. */
export function refuseBadInput(message: string, json: boolean | undefined, { out, err }: Streams): number {
  if (json) out(JSON.stringify({ ok: false, exitCode: EXIT_BAD_INPUT, error: { message } }, null, 2) + '\n');
  else err(`${message}\n`);
  return EXIT_BAD_INPUT;
}

/**
 * The nodes' SSH settings: node hosts may be ~/.ssh/config aliases, and the settings it gives are used to connect
 * (as up does). Its warnings go to stderr; an unusable ssh config is reported and undefined comes back (exit 2).
 */
export function resolveNodesSsh(
  inventory: Inventory,
  opts: { inventory: string; json?: boolean; env?: NodeJS.ProcessEnv },
  { out, err }: Streams,
): ResolvedInventorySsh | undefined {
  const ssh = resolveSshOrReport(inventory, { inventory: opts.inventory, json: opts.json, out, err, env: opts.env });
  if (ssh) for (const warning of ssh.warnings) err(`  ! ${warning}\n`);
  return ssh;
}

/** The options of every front that runs on the cluster (each adds its own). */
export interface ClusterCommandOptions extends CommandSeams {
  inventory: string;
  json?: boolean;
  dryRun?: boolean;
  stateDir?: string;
}

/** What a front's work is given. */
export interface ClusterRun {
  /** The inventory with each node's host as SSH reaches it. */
  inventory: Inventory;
  stateDir: string;
  log: RunLog;
  open: (node: InventoryNode) => Promise<Transport>;
  /** A progress line, on stderr. */
  progress: (line: string) => void;
}

/**
 * Resolves the nodes' SSH settings, makes the state folder, and runs `work` — under the cluster's lock, as `command`,
 * unless it is a dry run — with a run log named `command` whose first line is `commandLine`.
 */
export async function runOnCluster(
  command: string,
  commandLine: string,
  checked: Inventory,
  opts: ClusterCommandOptions,
  streams: Streams,
  work: (run: ClusterRun) => Promise<number>,
): Promise<number> {
  const ssh = resolveNodesSsh(checked, opts, streams);
  if (!ssh) return EXIT_BAD_INPUT;
  const { inventory } = ssh;
  const stateDir = ensurePrivateDir(stateDirFor(inventory.cluster.name, opts.stateDir));
  const run = async () => {
    const log = new RunLog(stateDir, command);
    log.write(commandLine);
    const open = opts.openTransport ?? (await import('../../core/connect.js')).transportOpener(inventory, { log, ssh: ssh.nodes });
    return work({ inventory, stateDir, log, open, progress: (line) => streams.err(`${line}\n`) });
  };
  return opts.dryRun ? run() : withCommandLock(stateDir, inventory.cluster.name, command, { json: opts.json, ...streams }, run);
}

/** Ends a run: its exit code in the run log, then the result as JSON on stdout with --json, else as `human` tells it. */
export function finishRun(run: ClusterRun, result: { exitCode: number }, json: boolean | undefined, out: Streams['out'], human: () => void): number {
  run.log.write(`finished: exit ${result.exitCode}`);
  if (json) out(JSON.stringify(result, null, 2) + '\n');
  else human();
  return result.exitCode;
}
