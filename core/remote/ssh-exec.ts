import { constants as osConstants } from 'node:os';
import type { Client } from 'ssh2';
import { ConnectionError } from '../errors.js';
import type { SudoMode } from './commands.js';
import type { RunResult } from './transport.js';

/** Running one command on its own channel of the node's connection, and how many may run at once. */

/** Exit code of a command killed by its timeout (as coreutils `timeout`). */
export const TIMEOUT_EXIT = 124;

/**
 * Commands in flight per connection. OpenSSH's MaxSessions defaults to 10 and the SFTP session takes one,
 * so more parallel commands than this wait for a free channel instead of failing to open one.
 */
export const MAX_CHANNELS = 8;

/** A counting semaphore. */
export class Slots {
  private free: number;
  private waiting: Array<() => void> = [];
  constructor(size: number) {
    this.free = size;
  }
  async use<T>(task: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((r) => this.waiting.push(r));
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    }
  }
}

/** The server refused to open a channel on a live connection (e.g. MaxSessions reached). */
export class ChannelOpenError extends Error {
  constructor(readonly error: ConnectionError) {
    super(error.message);
  }
}

/**
 * Runs one command on a fresh channel. `stdin` (the script, for `sh -s`) is written and stdin closed at once.
 * Under `sudo -S` the password is written only when sudo's prompt marker shows on stderr (so nothing is written
 * when sudo does not ask), and stdin is closed right after.
 */
export function execOnce(
  client: Client,
  nodeName: string,
  sudoPassword: string | undefined,
  command: string,
  sudo: SudoMode,
  timeoutMs: number | undefined,
  stdin?: string,
): Promise<RunResult> {
  return new Promise<RunResult>((resolve, reject) => {
    client.exec(command, (openErr, channel) => {
      if (openErr) {
        const error = new ConnectionError(nodeName, `Could not start a command on node ${nodeName}: ${openErr.message}.`, { cause: openErr });
        return reject((openErr as { reason?: unknown }).reason !== undefined ? new ChannelOpenError(error) : error);
      }
      // Listeners go on synchronously: output and the exit status can arrive in the same packet batch as the open.
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let errText = '';
      let prompts = 0;
      let code: number | undefined;
      let timedOut = false;
      if (sudo.kind !== 'password') channel.end(stdin);
      channel.on('data', (b: Buffer) => out.push(b));
      channel.stderr.on('data', (b: Buffer) => {
        err.push(b);
        if (sudo.kind !== 'password' || prompts >= 2) return;
        errText += b.toString('latin1');
        const seen = errText.split(sudo.prompt).length - 1;
        if (seen > prompts) {
          prompts = seen;
          if (prompts === 1) channel.end(`${sudoPassword}\n`);
        }
      });
      const onExit = (c: number | null | undefined, signal?: string) => {
        if (typeof c === 'number') code = c;
        else if (signal) code = exitCodeForSignal(signal);
      };
      channel.on('exit', onExit);
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(() => {
              timedOut = true;
              try {
                channel.signal('KILL');
              } catch {
                /* the server may not support signals; the remote `timeout` and closing the channel still apply */
              }
              channel.close();
            }, timeoutMs);
      channel.on('close', (c?: number | null, signal?: string) => {
        if (timer) clearTimeout(timer);
        if (code === undefined) onExit(c, signal);
        const stdout = Buffer.concat(out).toString('utf8');
        const stderr = Buffer.concat(err).toString('utf8');
        if (timedOut) return resolve({ code: TIMEOUT_EXIT, stdout, stderr });
        if (code === undefined) {
          return reject(
            new ConnectionError(nodeName, `The SSH session to node ${nodeName} broke while a command was running.`, {
              hint: 'Check the node and its network; run again.',
            }),
          );
        }
        resolve({ code, stdout, stderr });
      });
    });
  });
}

/** Shell convention for a command killed by a signal: 128 + its number (ssh2 names it `SIGKILL` etc.). */
function exitCodeForSignal(signal: string): number {
  const name = signal.startsWith('SIG') ? signal : `SIG${signal}`;
  return 128 + ((osConstants.signals as Record<string, number>)[name] ?? 0);
}
