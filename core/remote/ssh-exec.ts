import { constants as osConstants } from 'node:os';
import { PassThrough } from 'node:stream';
import type { NodeSSH } from 'node-ssh';
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
 * Runs one command on a fresh channel (node-ssh's execCommand). `stdin` (the script, for `sh -s`) is written and
 * stdin closed at once. Under `sudo -S` stdin stays open and the password is written only when sudo's prompt
 * marker shows on stderr (so nothing is written when sudo does not ask), then stdin is closed.
 * Output is kept as the raw chunks and decoded once at the end: node-ssh's own strings decode chunk by chunk,
 * which would split a UTF-8 character that straddles two packets.
 */
export async function execOnce(
  ssh: NodeSSH,
  nodeName: string,
  sudoPassword: string | undefined,
  command: string,
  sudo: SudoMode,
  timeoutMs: number | undefined,
  stdin?: string,
): Promise<RunResult> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let errText = '';
  let prompts = 0;
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  const passwordIn = sudo.kind === 'password' ? new PassThrough() : undefined;
  let result: Awaited<ReturnType<NodeSSH['execCommand']>>;
  try {
    result = await ssh.execCommand(command, {
      noTrim: true,
      ...(passwordIn ? { stdin: passwordIn } : stdin !== undefined ? { stdin } : {}),
      onStdout: (b) => out.push(b),
      onStderr: (b) => {
        err.push(b);
        if (sudo.kind !== 'password' || prompts >= 2) return;
        errText += b.toString('latin1');
        const seen = errText.split(sudo.prompt).length - 1;
        if (seen > prompts) {
          prompts = seen;
          if (prompts === 1) passwordIn!.end(`${sudoPassword}\n`);
        }
      },
      // The raw channel only for the timeout (node-ssh has no kill; see ssh.ts).
      onChannel: (channel) => {
        if (timeoutMs === undefined) return;
        timer = setTimeout(() => {
          timedOut = true;
          try {
            channel.signal('KILL');
          } catch {
            /* the server may not support signals; the remote `timeout` and closing the channel still apply */
          }
          channel.close();
        }, timeoutMs);
      },
    });
  } catch (openErr) {
    const e = openErr as Error & { reason?: unknown };
    const error = new ConnectionError(nodeName, `Could not start a command on node ${nodeName}: ${e.message}.`, { cause: openErr });
    throw e.reason !== undefined ? new ChannelOpenError(error) : error;
  } finally {
    if (timer) clearTimeout(timer);
  }
  const stdout = Buffer.concat(out).toString('utf8');
  const stderr = Buffer.concat(err).toString('utf8');
  if (timedOut) return { code: TIMEOUT_EXIT, stdout, stderr };
  const code = result.code ?? (result.signal ? exitCodeForSignal(result.signal) : undefined);
  if (code === undefined) {
    throw new ConnectionError(nodeName, `The SSH session to node ${nodeName} broke while a command was running.`, {
      hint: 'Check the node and its network; run again.',
    });
  }
  return { code, stdout, stderr };
}

/** Shell convention for a command killed by a signal: 128 + its number (ssh2 names it `SIGKILL` etc.). */
function exitCodeForSignal(signal: string): number {
  const name = signal.startsWith('SIG') ? signal : `SIG${signal}`;
  return 128 + ((osConstants.signals as Record<string, number>)[name] ?? 0);
}
