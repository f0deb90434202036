import type { ShellScript } from '../../core/remote/shell.js';
import type { FileToWrite, RunOptions, RunResult, Transport, WriteFileOptions } from '../../core/remote/transport.js';

/**
 * TEST DOUBLE of the Transport interface, for unit tests of code that drives nodes (the real SSH transport
 * runs against the lab in integration tests). It keeps a file system as a Map, records every command and
 * write, answers commands from scripted handlers, and fails loudly on a command nobody scripted: the
 * promise rejects AND the command lands in `unexpected`, so a test can assert on it even when the code
 * under test catches the error.
 */
export type FakeReply = RunResult | ((script: string, opts: RunOptions | undefined, fake: FakeTransport) => RunResult | Promise<RunResult>);

export interface FakeHandler {
  match: string | RegExp | ((script: string) => boolean);
  reply: FakeReply;
  /** Answer at most this many times; later matching commands fall through to the next handler. */
  times?: number;
  used: number;
}

export interface FakeWrite {
  path: string;
  content: Buffer;
  mode?: number;
  sudo?: boolean;
}

export const ok = (stdout = ''): RunResult => ({ code: 0, stdout, stderr: '' });
export const fail = (code: number, stderr = '', stdout = ''): RunResult => ({ code, stdout, stderr });

export class FakeTransport implements Transport {
  readonly runs: { script: string; opts?: RunOptions }[] = [];
  readonly writes: FakeWrite[] = [];
  readonly reads: string[] = [];
  readonly unexpected: string[] = [];
  readonly files = new Map<string, Buffer>();
  readonly modes = new Map<string, number>();
  private readonly handlers: FakeHandler[] = [];
  connectionCount = 1;
  /** Test double: the runs so far (a writeFilesThenRun with a script counts once, as over SSH). */
  get commandCount(): number {
    return this.runs.length;
  }
  reconnects = 0;
  closed = false;

  constructor(
    readonly nodeName: string,
    files: Record<string, string | Buffer> = {},
  ) {
    for (const [path, content] of Object.entries(files)) this.files.set(path, Buffer.from(content));
  }

  /**
   * Scripts an answer for commands matching `match` (substring, regex or predicate); the first matching
   * handler wins. `before: true` puts it ahead of the handlers scripted so far (to override one).
   */
  on(match: FakeHandler['match'], reply: FakeReply, opts: { times?: number; before?: boolean } = {}): this {
    const handler = { match, reply, times: opts.times, used: 0 };
    if (opts.before) this.handlers.unshift(handler);
    else this.handlers.push(handler);
    return this;
  }

  /** The commands run so far whose script contains `text`. */
  ran(text: string | RegExp): string[] {
    return this.runs.map((r) => r.script).filter((s) => (typeof text === 'string' ? s.includes(text) : text.test(s)));
  }

  file(path: string): string | undefined {
    return this.files.get(path)?.toString('utf8');
  }

  async run(shellScript: ShellScript, opts?: RunOptions): Promise<RunResult> {
    const script = shellScript.text;
    if (this.closed) throw new Error(`FakeTransport(${this.nodeName}): run after close: ${script}`);
    this.runs.push({ script, opts });
    const handler = this.handlers.find((h) => (h.times === undefined || h.used < h.times) && matches(h.match, script));
    if (!handler) {
      this.unexpected.push(script);
      throw new Error(`FakeTransport(${this.nodeName}): unexpected command (script it with .on()): ${script}`);
    }
    handler.used++;
    return typeof handler.reply === 'function' ? handler.reply(script, opts, this) : handler.reply;
  }

  async writeFile(path: string, content: string | Uint8Array, opts: WriteFileOptions = {}): Promise<void> {
    if (this.closed) throw new Error(`FakeTransport(${this.nodeName}): writeFile after close: ${path}`);
    const buffer = Buffer.from(content);
    this.writes.push({ path, content: buffer, mode: opts.mode, sudo: opts.sudo });
    this.files.set(path, buffer);
    this.modes.set(path, opts.mode ?? 0o644);
  }

  /** Test double: the writes land in `files` (and `writes`) at once, then the script runs as `run` would (if any). */
  async writeFilesThenRun(files: FileToWrite[], script: ShellScript, opts?: RunOptions): Promise<RunResult> {
    for (const f of files) await this.writeFile(f.path, f.content, { ...(f.mode !== undefined ? { mode: f.mode } : {}), sudo: opts?.sudo ?? false });
    return script.text.trim() === '' ? { code: 0, stdout: '', stderr: '' } : this.run(script, opts);
  }

  async readFile(path: string): Promise<Buffer | undefined> {
    if (this.closed) throw new Error(`FakeTransport(${this.nodeName}): readFile after close: ${path}`);
    this.reads.push(path);
    return this.files.get(path);
  }

  async reconnect(): Promise<void> {
    this.reconnects++;
    this.connectionCount++;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

function matches(match: FakeHandler['match'], script: string): boolean {
  if (typeof match === 'string') return script.includes(match);
  if (match instanceof RegExp) return match.test(script);
  return match(script);
}
