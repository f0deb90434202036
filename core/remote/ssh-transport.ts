import { randomBytes } from 'node:crypto';
import { ConnectionError, RemoteCommandError, RevuePiError } from '../errors.js';
import {
  buildInstallFilesScript,
  buildReadFileScript,
  buildScriptCommand,
  buildScriptFileCommand,
  buildStdinScriptCommand,
  stdinScript,
  effectiveScript,
  MAX_INLINE_SCRIPT_BASE64,
  MAX_INLINE_FILES_BYTES,
  buildInlineFilesScript,
  NO_SUCH_FILE_EXIT,
  NO_SUCH_FILE_MESSAGE,
  parseSudoStderr,
  type SudoMode,
} from './commands.js';
import { displayAddress } from './known-hosts.js';
import { maskSecrets } from './mask.js';
import { sh, type ShellScript } from './shell.js';
import type { Endpoint } from './ssh-credentials.js';
import { dial, type OpenConnection, unreachable } from './ssh-dial.js';
import { ChannelOpenError, execOnce, MAX_CHANNELS, Slots } from './ssh-exec.js';
import { backoffDelay, describeDialError, FinalError, type LoginContext, plural, sleep } from './ssh-login.js';
import { upload } from './ssh-sftp.js';
import type { FileToWrite, RunOptions, RunResult, Transport, WriteFileOptions } from './transport.js';

/**
 * The production transport: one SSH connection per node, opened by connectNode (ssh.ts) and reused by every
 * step; it reopens a dropped connection once for all waiting callers and polls through reboots. Commands and
 * scripts are built by the pure functions in commands.ts.
 */
export class SshTransport implements Transport {
  readonly nodeName: string;
  private conn: OpenConnection | undefined;
  private opens = 0;
  private closing = false;
  private reopening: Promise<void> | undefined;
  private readonly channels = new Slots(MAX_CHANNELS);

  constructor(
    private readonly opts: LoginContext,
    private readonly node: Endpoint,
    private readonly jump: Endpoint | undefined,
    private readonly sudoPassword: string | undefined,
    private readonly sudoPasswordEnv: string | undefined,
    /** Secrets to mask from anything this transport reports. */
    readonly secrets: readonly string[],
  ) {
    this.nodeName = opts.nodeName;
  }

  get connectionCount(): number {
    return this.opens;
  }

  private commands = 0;
  get commandCount(): number {
    return this.commands;
  }

  private get address(): string {
    return displayAddress(this.node.host, this.node.port);
  }

  /** Opens the connection, retrying unreachable nodes with backoff; auth and host key failures are final. */
  async open(): Promise<void> {
    const attempts = this.opts.retries + 1;
    let last: unknown;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        this.conn = await this.dial(this.opts.connectTimeoutMs);
        return;
      } catch (err) {
        if (err instanceof FinalError) throw err.error;
        last = err;
        if (attempt < attempts) await sleep(backoffDelay(attempt, this.opts.retryDelayMs, 5000));
      }
    }
    throw unreachable(this.opts, this.node, this.jump, last, `after ${plural(attempts, 'attempt')}`);
  }

  /** One attempt at the connection (through the jump host when there is one); counted for the one-connection check. */
  private async dial(timeoutMs: number): Promise<OpenConnection> {
    const conn = await dial(this.opts, this.node, this.jump, timeoutMs);
    this.opens++;
    return conn;
  }

  /** Uploads bytes to a fresh file (mode 0600) in the login user's home; returns its absolute path. */
  private async upload(content: Buffer): Promise<string> {
    return upload(await this.client(), this.nodeName, content);
  }

  /** The live connection; a dropped one is reopened once, shared by every caller waiting for it. */
  private async client(): Promise<OpenConnection> {
    if (this.closing) throw new ConnectionError(this.nodeName, `The SSH connection to node ${this.nodeName} was closed.`);
    if (this.conn?.alive) return this.conn;
    if (!this.reopening) {
      this.dropConnection();
      this.reopening = this.open().finally(() => {
        this.reopening = undefined;
      });
    }
    await this.reopening;
    return this.conn!;
  }

  private dropConnection(): void {
    const c = this.conn;
    this.conn = undefined;
    if (!c) return;
    c.alive = false;
    c.ssh.dispose();
    c.bastion?.dispose();
  }

  private sudoMode(sudo: boolean | undefined): SudoMode {
    if (!sudo) return { kind: 'none' };
    if (this.sudoPassword === undefined) return { kind: 'nopassword' };
    return { kind: 'password', prompt: `[revue-pi sudo ${randomBytes(6).toString('hex')}]` };
  }

  async run(script: ShellScript, opts: RunOptions = {}): Promise<RunResult> {
    const sudo = this.sudoMode(opts.sudo);
    const timeoutSeconds = opts.timeoutMs === undefined ? undefined : opts.timeoutMs / 1000;
    const cmdOpts = { sudo, ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}) };
    let command: string;
    let stdin: string | undefined;
    if (sudo.kind !== 'password') {
      command = buildStdinScriptCommand(cmdOpts).text;
      stdin = stdinScript(script).text;
    } else {
      command = buildScriptCommand(script, cmdOpts).text;
      if (command.length > MAX_INLINE_SCRIPT_BASE64) {
        const path = await this.upload(Buffer.from(effectiveScript(script, sudo).text, 'utf8'));
        command = buildScriptFileCommand(path, cmdOpts).text;
      }
    }
    this.commands++;
    const raw = await this.channels.use(() => this.exec(command, sudo, opts.timeoutMs, stdin));
    const parsed = parseSudoStderr(raw.stderr, sudo.kind === 'password' ? sudo.prompt : undefined);
    const user = this.node.credentials.username;
    if (sudo.kind === 'password' && (parsed.prompts >= 2 || (raw.code !== 0 && parsed.incorrectPassword))) {
      throw new RevuePiError(`sudo on node ${this.nodeName} refused the password from ${this.sudoPasswordEnv} (ssh.sudoPasswordEnv).`, {
        code: 'SUDO_PASSWORD',
        node: this.nodeName,
        hint: `Set ${this.sudoPasswordEnv} to the password of user ${user} on ${this.nodeName}.`,
      });
    }
    if (sudo.kind === 'nopassword' && raw.code === 1 && parsed.passwordRequired) {
      throw new RevuePiError(`sudo on node ${this.nodeName} asks for a password: set ssh.sudoPasswordEnv in the inventory.`, {
        code: 'SUDO_PASSWORD',
        node: this.nodeName,
        hint: `Name an environment variable holding the sudo password of user ${user} in ssh.sudoPasswordEnv, or allow ${user} passwordless sudo on the node.`,
      });
    }
    if (sudo.kind !== 'none' && raw.code === 1 && parsed.notAllowed) {
      throw new RevuePiError(`User ${user} may not use sudo on node ${this.nodeName}: ${maskSecrets(parsed.stderr.trim(), this.secrets)}`, {
        code: 'SUDO_DENIED',
        node: this.nodeName,
        hint: `Add ${user} to the sudo group on the node, or set ssh.user to a user that may use sudo.`,
      });
    }
    return { code: raw.code, stdout: raw.stdout, stderr: maskSecrets(parsed.stderr, this.secrets) };
  }

  /**
   * Runs one command, retrying briefly when the server refuses a new channel while the connection is fine
   * (sshd frees a finished session a moment after its channel closes, so a full MaxSessions can lag).
   */
  private async exec(command: string, sudo: SudoMode, timeoutMs: number | undefined, stdin?: string): Promise<RunResult> {
    for (let attempt = 1; ; attempt++) {
      const conn = await this.client();
      try {
        return await execOnce(conn.ssh, this.nodeName, this.sudoPassword, command, sudo, timeoutMs, stdin);
      } catch (err) {
        const refusedChannel = err instanceof ChannelOpenError && conn.alive && attempt < 10;
        if (!refusedChannel) throw err instanceof ChannelOpenError ? err.error : err;
        await sleep(backoffDelay(attempt, 50, 500));
      }
    }
  }

  async writeFile(path: string, content: string | Uint8Array, opts: WriteFileOptions = {}): Promise<void> {
    const result = await this.writeFilesThenRun([{ path, content, ...(opts.mode !== undefined ? { mode: opts.mode } : {}) }], sh``, {
      sudo: opts.sudo ?? false,
    });
    if (result.code !== 0) {
      throw new RemoteCommandError(
        this.nodeName,
        `Writing ${path}`,
        `install (upload) → ${path}`,
        result.code,
        result.stderr || result.stdout,
        opts.sudo ? undefined : "Writing outside the user's own files usually needs sudo.",
      );
    }
  }

  async writeFilesThenRun(files: FileToWrite[], script: ShellScript, opts: RunOptions = {}): Promise<RunResult> {
    const bytes = files.map((f) => (typeof f.content === 'string' ? Buffer.from(f.content, 'utf8') : Buffer.from(f.content)));
    // Without a sudo password the script goes on stdin, never on a command line: the files can travel in it.
    if (this.sudoMode(opts.sudo).kind !== 'password' && bytes.reduce((n, b) => n + b.length, 0) <= MAX_INLINE_FILES_BYTES) {
      const inline = files.map((f, i) => ({ content: bytes[i]!, target: f.path, mode: f.mode ?? 0o644, token: randomBytes(6).toString('hex') }));
      return this.run(files.length > 0 ? sh`${buildInlineFilesScript(inline)}${script}` : script, opts);
    }
    const uploads = await Promise.all(
      files.map(async (f, i) => ({
        uploaded: await this.upload(bytes[i]!),
        target: f.path,
        mode: f.mode ?? 0o644,
        token: randomBytes(6).toString('hex'),
      })),
    );
    return this.run(files.length > 0 ? sh`${buildInstallFilesScript(uploads)}${script}` : script, opts);
  }

  async readFile(path: string, opts: { sudo?: boolean } = {}): Promise<Buffer | undefined> {
    const result = await this.run(buildReadFileScript(path), { sudo: opts.sudo ?? false });
    if (result.code === NO_SUCH_FILE_EXIT && result.stderr.includes(NO_SUCH_FILE_MESSAGE)) return undefined;
    if (result.code !== 0) throw new RemoteCommandError(this.nodeName, `Reading ${path}`, `base64 ${path}`, result.code, result.stderr || result.stdout);
    return Buffer.from(result.stdout, 'base64');
  }

  /**
   * Drops the connection and polls until SSH answers again: short attempts (at most 5 s each, within what is left),
   * backoff from 250 ms capped at 1 s. A changed host key or refused login ends the wait at once.
   */
  async reconnect(timeoutMs: number, opts: { waitForDropMs?: number } = {}): Promise<void> {
    const open = this.conn;
    if (open?.alive && opts.waitForDropMs) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([open.closed, new Promise<void>((resolve) => (timer = setTimeout(resolve, opts.waitForDropMs)))]);
      clearTimeout(timer);
    }
    this.dropConnection();
    // Commands issued meanwhile wait for this instead of dialling on their own.
    const polling = this.pollUntilUp(timeoutMs);
    const shared = polling.finally(() => {
      if (this.reopening === shared) this.reopening = undefined;
    });
    shared.catch(() => undefined);
    this.reopening = shared;
    await polling;
  }

  private async pollUntilUp(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let attempt = 0;
    let last: unknown;
    let lastTimeout = this.opts.connectTimeoutMs;
    while (Date.now() < deadline) {
      attempt++;
      lastTimeout = Math.max(200, Math.min(this.opts.connectTimeoutMs, 5000, deadline - Date.now()));
      try {
        this.conn = await this.dial(lastTimeout);
        return;
      } catch (err) {
        if (err instanceof FinalError) throw err.error;
        last = err;
      }
      // Dialling a node that is down is cheap (refused, or the dial timeout): poll often enough to catch it early.
      const pause = Math.min(backoffDelay(attempt, 250, 500), deadline - Date.now());
      if (pause > 0) await sleep(pause);
    }
    const cause = last === undefined ? 'no attempt fitted in the time given' : describeDialError(last, lastTimeout);
    throw new ConnectionError(
      this.nodeName,
      `Node ${this.nodeName} at ${this.address} did not answer SSH again within ${Math.round(timeoutMs / 100) / 10} s (${plural(attempt, 'attempt')}; last: ${cause}).`,
      { cause: last, hint: "Check the node's power and network; raise pi.rebootTimeoutSeconds in the inventory for slow boots." },
    );
  }

  async close(): Promise<void> {
    this.closing = true;
    this.dropConnection();
  }
}
