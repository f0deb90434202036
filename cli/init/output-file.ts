import { accessSync, constants as fsConstants, existsSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { RevuePiError } from '../../core/errors.js';

/** The inventory file init writes: checked before any question, written once at the very end. */

/** Why the output file cannot be written (missing or read-only folder, a folder in its place), checked before any question. */
export function outputProblem(output: string): string | undefined {
  const target = path.resolve(output);
  const dir = path.dirname(target);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return `the folder ${dir} for ${output} does not exist — create it, or pass another file with -o.`;
  try {
    accessSync(dir, fsConstants.W_OK);
  } catch {
    return `the folder ${dir} is not writable — pass a file in a folder you can write to with -o.`;
  }
  if (existsSync(target) && statSync(target).isDirectory())
    return `${output} is a folder — pass a file name with -o, e.g. ${path.join(output, 'inventory.yaml')}.`;
  return undefined;
}

/**
 * Writes the whole file to a temp file beside the target, then renames it over the target: the target is
 * either untouched or complete. A SIGINT arriving meanwhile is held until both are done (the write is
 * synchronous, and with a listener present Node delivers the signal to it after this returns).
 */
export function writeAtomically(target: string, content: string | Buffer): void {
  const temp = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.tmp`);
  const hold = () => undefined;
  process.on('SIGINT', hold);
  try {
    writeFileSync(temp, content, { mode: 0o644, flag: 'wx' });
    renameSync(temp, target);
  } catch (error) {
    try {
      unlinkSync(temp);
    } catch {
      // the temp file was never created
    }
    throw new RevuePiError(`Could not write ${target}: ${(error as Error).message}.`, { code: 'WRITE', cause: error });
  } finally {
    process.off('SIGINT', hold);
  }
}
