import { appendFileSync, closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import type { RunEvent } from './events.js';
import { ensurePrivateDir } from './state.js';
import { stripControlChars } from './remote/remote-text.js';

/**
 * Every run writes a log under the state directory. Lines pass through `mask` first, so a secret the
 * run knows about can never reach the file, even through an error message.
 */
export class RunLog {
  /** Undefined for a log kept nowhere (RunLog.none). */
  readonly path: string | undefined;
  private readonly secrets = new Set<string>();

  constructor(stateDir: string | undefined, command: string, now = new Date()) {
    if (stateDir === undefined) return;
    const dir = ensurePrivateDir(join(stateDir, 'logs'));
    this.path = join(dir, `${command}-${now.toISOString().replace(/[:.]/g, '-')}.log`);
    closeSync(openSync(this.path, 'a', 0o600));
  }

  /** A log that writes no file: for `plan --offline`, which leaves no trace on this computer. */
  static none(command: string): RunLog {
    return new RunLog(undefined, command);
  }

  addSecret(secret: string | undefined): void {
    if (secret && secret.length >= 4) this.secrets.add(secret);
  }

  mask(text: string): string {
    let out = text;
    for (const secret of this.secrets) out = out.split(secret).join('***');
    return out;
  }

  /** One line; text from nodes in it loses its control characters (someone will cat the log in a terminal). */
  write(line: string): void {
    if (this.path === undefined) return;
    appendFileSync(this.path, `${new Date().toISOString()} ${this.mask(stripControlChars(line))}\n`);
  }

  event(event: RunEvent): void {
    this.write(JSON.stringify(event));
  }
}
