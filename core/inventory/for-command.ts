import { InventoryError } from '../errors.js';
import { EXIT_BAD_INPUT } from '../report.js';
import { loadInventory, type ParsedInventory } from './parse.js';

/**
 * Loads the inventory for a command. A bad one is reported — its issues as text on stderr, or with --json as
 * one object on stdout — and undefined comes back, so the command returns exit 2 before opening any connection.
 */
export function loadInventoryForCommand(
  file: string,
  /** `env`: for commands that log in to nodes, where the *Env fields must name variables set there. */
  opts: { json?: boolean; out?: (text: string) => void; err?: (text: string) => void; env?: NodeJS.ProcessEnv } = {},
): ParsedInventory | undefined {
  const out = opts.out ?? ((t: string) => void process.stdout.write(t));
  const err = opts.err ?? ((t: string) => void process.stderr.write(t));
  try {
    return loadInventory(file, opts.env ? { env: opts.env } : {});
  } catch (error) {
    if (!(error instanceof InventoryError)) throw error;
    if (opts.json) out(JSON.stringify({ ok: false, exitCode: EXIT_BAD_INPUT, error: { file: error.file, issues: error.issues } }, null, 2) + '\n');
    else err(`${error.message}\n`);
    return undefined;
  }
}
