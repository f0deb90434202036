import type { ShellScript } from './shell.js';

/**
 * The one interface through which every step reaches a node. SSH in production (ssh.ts);
 * the lab's nodes are real SSH servers, so tests use the same SSH transport; unit tests use
 * the test double in test/fakes/.
 */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Run as root through sudo (password, when the inventory names one, goes through stdin). */
  sudo?: boolean;
  /** Kill the command after this long; the result then has code 124. */
  timeoutMs?: number;
}

export interface WriteFileOptions {
  /** Octal mode, e.g. 0o600 for anything holding a secret. Default 0o644. */
  mode?: number;
  /** Write as root (owner root:root). */
  sudo?: boolean;
}

export interface FileToWrite {
  path: string;
  content: string | Uint8Array;
  /** Octal mode; default 0o644. */
  mode?: number;
}

export interface Transport {
  /** The inventory name of the node this transport reaches. */
  readonly nodeName: string;
  /**
   * Runs a POSIX sh script (dash on Raspberry Pi OS) and resolves with its exit code and output —
   * a non-zero exit is not an exception. Rejects with ConnectionError when the session cannot run it.
   * The script travels on stdin (base64 on the command line under `sudo -S`, whose stdin carries the password), so it needs no quoting; it must not embed secrets (use writeFile).
   * Only a ShellScript is run: made by `sh` (shell.ts), which quotes every value put into it.
   */
  run(script: ShellScript, opts?: RunOptions): Promise<RunResult>;
  /** Writes a file atomically (temp file + rename in the same folder); content never touches a command line. */
  writeFile(path: string, content: string | Uint8Array, opts?: WriteFileOptions): Promise<void>;
  /**
   * Several writes and then a script, in one round trip: one command puts each file in place as writeFile does and,
   * only when all of them are, runs `script` in the same shell (sudo as `opts` says, for the writes too). The bytes
   * travel inside that command's stdin script, or, under a sudo password or beyond 1 MiB, by SFTP before it. Resolves with that command's result: a failed write is a non-zero exit whose stderr names
   * the file. Each round trip costs a Pi a login, sudo and a shell; steps that write and then act use this.
   */
  writeFilesThenRun(files: FileToWrite[], script: ShellScript, opts?: RunOptions): Promise<RunResult>;
  /** Reads a file, as root with sudo; resolves undefined when it does not exist. */
  readFile(path: string, opts?: { sudo?: boolean }): Promise<Buffer | undefined>;
  /**
   * Drops the connection and waits until the node answers SSH again (after a reboot),
   * bounded by timeoutMs; rejects with ConnectionError naming the node when it does not.
   * With `waitForDropMs`, it first waits that long at most for the open connection to be closed by the node going
   * down, so that the first new connection does not reach the boot that is ending.
   */
  reconnect(timeoutMs: number, opts?: { waitForDropMs?: number }): Promise<void>;
  /** How many SSH connections this transport has opened so far (the benchmark reports it). */
  readonly connectionCount: number;
  /** How many commands (round trips: login shell, sudo, script) it has run so far, the writes' included. */
  readonly commandCount: number;
  close(): Promise<void>;
}
