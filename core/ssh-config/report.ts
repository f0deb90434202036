import { RevuePiError } from '../errors.js';
import type { Inventory } from '../inventory/schema.js';
import { EXIT_BAD_INPUT } from '../report.js';
import { resolveSshForCommand } from './for-command.js';
import type { ResolvedInventorySsh } from './resolve.js';

/**
 * resolveSshForCommand for a command: an unusable ssh config is reported (on stderr, or as one JSON object on
 * stdout with --json) and undefined comes back, so the command returns exit 2 before any connection.
 */
export function resolveSshOrReport(
  inventory: Inventory,
  opts: { inventory: string; json?: boolean; out?: (text: string) => void; err?: (text: string) => void; env?: NodeJS.ProcessEnv },
): (ResolvedInventorySsh & { configFile?: string }) | undefined {
  try {
    return resolveSshForCommand(inventory, opts.env);
  } catch (error) {
    if (!(error instanceof RevuePiError)) throw error;
    const text = `${error.message}${error.hint ? `\n${error.hint}` : ''}`;
    if (opts.json)
      (opts.out ?? ((t) => void process.stdout.write(t)))(
        JSON.stringify({ ok: false, exitCode: EXIT_BAD_INPUT, error: { file: opts.inventory, message: text } }, null, 2) + '\n',
      );
    else (opts.err ?? ((t) => void process.stderr.write(t)))(`${text}\n`);
    return undefined;
  }
}
