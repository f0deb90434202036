import { randomBytes } from 'node:crypto';
import { linkSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { RevuePiError } from './errors.js';
import { EXIT_NODE_FAILED } from './report.js';

/**
 * One run at a time per cluster: every command that changes something takes `<state-dir>/lock` first. The file names
 * its holder (pid, host, start time, command); a second run is refused with that. A lock whose holder died on this
 * host (its pid is gone) is taken over — atomically, with no timing assumption:
 *
 * - the lock is created whole with link(2) from a private temp file (O_EXCL semantics; a reader never sees half a lock);
 * - each lock carries a random token; only the process that creates `lock.reap-<token>` (O_EXCL) may remove the lock
 *   holding that token, and it removes it only after reading the token there again. Tokens never repeat, so a takeover
 *   racing another can never remove the lock its rival has just taken.
 *
 * Why not proper-lockfile: it judges staleness by age (the holder refreshes an mtime with a timer every few seconds),
 * so a dead holder's lock blocks for its whole stale period, a laptop suspended longer than that loses its lock while
 * running, and it records no holder to name in the refusal. A pid on the same host answers "is it still running?"
 * directly. (A holder on another host sharing the directory cannot be checked: refused, with what to do.)
 */
export const LOCK_FILE = 'lock';

export interface LockHolder {
  pid: number;
  host: string;
  /** ISO time the holder started. */
  started: string;
  /** e.g. `up`, `kubeconfig --write`. */
  command: string;
  token: string;
}

export class StateLockedError extends RevuePiError {
  constructor(
    readonly lockFile: string,
    readonly holder: LockHolder | undefined,
    message: string,
    hint: string,
  ) {
    super(message, { code: 'LOCKED', hint });
  }
}

/** Whether a process with this pid exists on this host (EPERM: it exists, run by another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The lock file's holder; undefined when there is no lock file; 'malformed' when it is not one of ours. */
export function parseLockHolder(text: string): LockHolder | 'malformed' {
  try {
    const h = JSON.parse(text) as Partial<LockHolder>;
    if (
      typeof h.pid === 'number' &&
      typeof h.host === 'string' &&
      typeof h.started === 'string' &&
      typeof h.command === 'string' &&
      typeof h.token === 'string'
    ) {
      return { pid: h.pid, host: h.host, started: h.started, command: h.command, token: h.token };
    }
  } catch {
    // not JSON
  }
  return 'malformed';
}

function readHolder(file: string): LockHolder | 'malformed' | undefined {
  try {
    return parseLockHolder(readFileSync(file, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** "3 min ago", "40 s ago", "2 h ago" (pure). */
export function ago(startedIso: string, now: Date): string {
  const s = Math.max(0, Math.round((now.getTime() - Date.parse(startedIso)) / 1000));
  if (!Number.isFinite(s)) return 'at an unknown time';
  if (s < 120) return `${s} s ago`;
  if (s < 7200) return `${Math.round(s / 60)} min ago`;
  return `${Math.round(s / 3600)} h ago`;
}

/** The refusal when another run holds the lock (pure). */
export function lockedMessage(cluster: string, file: string, holder: LockHolder, me: { host: string }, now: Date): { message: string; hint: string } {
  const message =
    `Another revue-pi run is working on cluster ${cluster}: \`${holder.command}\`, pid ${holder.pid} on host ${holder.host}, ` +
    `started ${holder.started} (${ago(holder.started, now)}). It holds ${file}, so this run changed nothing.`;
  const hint =
    holder.host === me.host
      ? `Wait for it to finish (or stop it: kill ${holder.pid}), then run again.`
      : `Wait for it to finish. If host ${holder.host} is down and that run is gone for good, delete ${file} and run again.`;
  return { message, hint };
}

export interface AcquireOptions {
  /** Seams for tests. */
  pid?: number;
  host?: string;
  now?: () => Date;
  isAlive?: (pid: number) => boolean;
  /** How many times a lock seen changing under us is looked at again before giving up (default 50, 20 ms apart). */
  attempts?: number;
}

/** A lock this process holds; release() is idempotent and also runs at exit and on SIGINT/SIGTERM/SIGHUP. */
export class StateLock {
  private released = false;
  private readonly onExit = () => this.release();
  private readonly onSignal = (signal: NodeJS.Signals) => {
    this.release();
    // Then end as the signal would have, for any other listener to run first (as with no handler at all).
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  };

  constructor(
    readonly file: string,
    readonly holder: LockHolder,
    private readonly signals: boolean,
  ) {
    if (signals) {
      process.once('exit', this.onExit);
      for (const s of HANDLED_SIGNALS) process.once(s, this.onSignal);
    }
  }

  /** Removes the lock file if it is still this run's (a lock taken over by hand is left alone). */
  release(): void {
    if (this.released) return;
    this.released = true;
    if (this.signals) {
      process.removeListener('exit', this.onExit);
      for (const s of HANDLED_SIGNALS) process.removeListener(s, this.onSignal);
    }
    const now = readHolder(this.file);
    if (now !== undefined && now !== 'malformed' && now.token === this.holder.token) {
      try {
        unlinkSync(this.file);
      } catch {
        // already gone
      }
    }
  }
}

const HANDLED_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * Takes `<dir>/lock` for `command`, or throws StateLockedError naming the holder. `cluster` is for the message.
 * `signals: false` (tests in one process) leaves process exit and signal handling alone.
 */
export async function acquireStateLock(dir: string, cluster: string, command: string, opts: AcquireOptions & { signals?: boolean } = {}): Promise<StateLock> {
  const now = opts.now ?? (() => new Date());
  const isAlive = opts.isAlive ?? processAlive;
  const me: LockHolder = {
    pid: opts.pid ?? process.pid,
    host: opts.host ?? hostname(),
    started: now().toISOString(),
    command,
    token: randomBytes(12).toString('hex'),
  };
  const file = join(dir, LOCK_FILE);
  const temp = join(dir, `${LOCK_FILE}.${me.token}.tmp`);
  writeFileSync(temp, JSON.stringify(me) + '\n', { mode: 0o600, flag: 'wx' });
  try {
    for (let attempt = 0; attempt < (opts.attempts ?? 50); attempt++) {
      try {
        linkSync(temp, file);
        return new StateLock(file, me, opts.signals ?? true);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const holder = readHolder(file);
      if (holder === undefined) continue; // released meanwhile
      if (holder === 'malformed') {
        throw new StateLockedError(
          file,
          undefined,
          `The lock file ${file} exists but is not a revue-pi lock, so this run changed nothing.`,
          `If no revue-pi run is working on cluster ${cluster}, delete ${file} and run again.`,
        );
      }
      if (holder.host !== me.host || isAlive(holder.pid)) {
        const { message, hint } = lockedMessage(cluster, file, holder, me, now());
        throw new StateLockedError(file, holder, message, hint);
      }
      // The holder died on this host. Only the creator of this token's reap marker may remove its lock.
      const reap = `${file}.reap-${holder.token}`;
      try {
        writeFileSync(reap, JSON.stringify(me) + '\n', { mode: 0o600, flag: 'wx' });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const reaper = readHolder(reap);
        if (reaper !== undefined && reaper !== 'malformed' && reaper.host === me.host && !isAlive(reaper.pid)) {
          throw new StateLockedError(
            file,
            holder,
            `The lock ${file} of a run that ended (pid ${holder.pid}, started ${holder.started}) was being taken over by pid ${reaper.pid}, which ended too, so this run changed nothing.`,
            `No revue-pi run holds cluster ${cluster}: delete ${file} and ${reap}, then run again.`,
          );
        }
        await sleep(20); // another run is taking it over right now
        continue;
      }
      try {
        const still = readHolder(file);
        if (still !== undefined && still !== 'malformed' && still.token === holder.token) unlinkSync(file);
      } finally {
        unlinkSync(reap);
      }
    }
    throw new StateLockedError(
      file,
      undefined,
      `Could not take the lock ${file} for cluster ${cluster}: it kept changing hands, so this run changed nothing.`,
      'Run again once the other revue-pi runs have finished.',
    );
  } finally {
    unlinkSync(temp);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * For a command: the lock, or undefined after reporting the refusal (a sentence on stderr, or with --json one object on
 * stdout: `{ ok: false, exitCode: 1, error: { message, hint, lockFile, holder } }`); the command then exits 1.
 */
export async function lockForCommand(
  dir: string,
  cluster: string,
  command: string,
  io: { json?: boolean; out?: (text: string) => void; err?: (text: string) => void } = {},
): Promise<StateLock | undefined> {
  try {
    return await acquireStateLock(dir, cluster, command);
  } catch (error) {
    if (!(error instanceof StateLockedError)) throw error;
    const out = io.out ?? ((t: string) => void process.stdout.write(t));
    const err = io.err ?? ((t: string) => void process.stderr.write(t));
    if (io.json)
      out(
        JSON.stringify(
          { ok: false, exitCode: 1, error: { message: error.message, hint: error.hint, lockFile: error.lockFile, holder: error.holder ?? null } },
          null,
          2,
        ) + '\n',
      );
    else err(`${error.message} ${error.hint}\n`);
    return undefined;
  }
}

/**
 * Runs a command's work while holding the cluster's lock; refused (reported as lockForCommand does), it runs nothing
 * and the command exits 1 (EXIT_NODE_FAILED).
 */
export async function withCommandLock(
  dir: string,
  cluster: string,
  command: string,
  io: { json?: boolean; out?: (text: string) => void; err?: (text: string) => void },
  work: () => Promise<number>,
): Promise<number> {
  const lock = await lockForCommand(dir, cluster, command, io);
  if (!lock) return EXIT_NODE_FAILED;
  try {
    return await work();
  } finally {
    lock.release();
  }
}
