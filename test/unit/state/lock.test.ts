import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { acquireStateLock, ago, LOCK_FILE, parseLockHolder, StateLockedError, type LockHolder } from '../../../core/lock.js';
import { tempDir } from '../../fakes/temp-dir.js';

const CHILD = fileURLToPath(new URL('./lock-child.ts', import.meta.url));
const dirs: string[] = [];
function stateDir(): string {
  const d = tempDir('lock');
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A pid that was a process of this host a moment ago and is gone now. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  await new Promise((r) => child.on('exit', r));
  return child.pid!;
}

function writeLock(dir: string, holder: Partial<LockHolder> & { pid: number }): LockHolder {
  const h: LockHolder = { host: hostname(), started: '2025-01-02T03:04:05.000Z', command: 'up', token: `t${holder.pid}`, ...holder };
  writeFileSync(join(dir, LOCK_FILE), JSON.stringify(h) + '\n');
  return h;
}

function child(
  dir: string,
  holdMs?: number,
  startAt?: number,
): {
  result: Promise<{ won: boolean; message?: string; token?: string }>;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill: (s: NodeJS.Signals) => void;
} {
  const p = spawn(
    process.execPath,
    ['--import', 'tsx', CHILD, dir, holdMs !== undefined ? String(holdMs) : '', ...(startAt !== undefined ? [String(startAt)] : [])],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const result = new Promise<{ won: boolean; message?: string; token?: string }>((resolve, reject) => {
    let out = '';
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0]!));
    });
    p.once('exit', (code) => reject(new Error(`lock-child exited (${code}) before answering`)));
  });
  result.catch(() => undefined);
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => p.once('exit', (code, signal) => r({ code, signal })));
  return { result, done, kill: (s) => p.kill(s) };
}

describe('the state directory lock', () => {
  it('is a file naming its holder; a second run is refused with pid, host and start time; release removes it', async () => {
    const dir = stateDir();
    const t0 = new Date('2025-05-06T07:08:09.000Z');
    const lock = await acquireStateLock(dir, 'home', 'up', { signals: false, now: () => t0 });
    const held = parseLockHolder(readFileSync(join(dir, LOCK_FILE), 'utf8')) as LockHolder;
    expect(held).toEqual({ pid: process.pid, host: hostname(), started: '2025-05-06T07:08:09.000Z', command: 'up', token: lock.holder.token });

    const refusal = await acquireStateLock(dir, 'home', 'kubeconfig --write', { signals: false, now: () => new Date('2025-05-06T07:11:09.000Z') }).catch(
      (e: unknown) => e,
    );
    expect(refusal).toBeInstanceOf(StateLockedError);
    expect((refusal as StateLockedError).message).toBe(
      `Another revue-pi run is working on cluster home: \`up\`, pid ${process.pid} on host ${hostname()}, started 2025-05-06T07:08:09.000Z (3 min ago). ` +
        `It holds ${join(dir, LOCK_FILE)}, so this run changed nothing.`,
    );
    expect((refusal as StateLockedError).hint).toBe(`Wait for it to finish (or stop it: kill ${process.pid}), then run again.`);

    lock.release();
    expect(readdirSync(dir)).toEqual([]);
    const again = await acquireStateLock(dir, 'home', 'up', { signals: false });
    again.release();
  });

  it('takes over the lock of a process that is gone (same host)', async () => {
    const dir = stateDir();
    writeLock(dir, { pid: await deadPid() });
    const lock = await acquireStateLock(dir, 'home', 'up', { signals: false });
    expect((parseLockHolder(readFileSync(join(dir, LOCK_FILE), 'utf8')) as LockHolder).token).toBe(lock.holder.token);
    expect(readdirSync(dir)).toEqual([LOCK_FILE]); // no temp file or reap marker left
    lock.release();
  });

  it('refuses a lock held from another host (its pid cannot be checked), saying how to clear it', async () => {
    const dir = stateDir();
    writeLock(dir, { pid: await deadPid(), host: 'other-laptop' });
    const refusal = (await acquireStateLock(dir, 'home', 'up', { signals: false }).catch((e: unknown) => e)) as StateLockedError;
    expect(refusal.message).toMatch(/pid \d+ on host other-laptop, started 2025-01-02T03:04:05\.000Z/);
    expect(refusal.hint).toBe(
      `Wait for it to finish. If host other-laptop is down and that run is gone for good, delete ${join(dir, LOCK_FILE)} and run again.`,
    );
  });

  it('refuses a file that is not a lock of ours, and one whose takeover was cut short, naming the files to delete', async () => {
    const dir = stateDir();
    writeFileSync(join(dir, LOCK_FILE), 'garbage');
    const bad = (await acquireStateLock(dir, 'home', 'up', { signals: false }).catch((e: unknown) => e)) as StateLockedError;
    expect(bad.message).toBe(`The lock file ${join(dir, LOCK_FILE)} exists but is not a revue-pi lock, so this run changed nothing.`);

    const dead = writeLock(dir, { pid: await deadPid() });
    writeFileSync(join(dir, `${LOCK_FILE}.reap-${dead.token}`), JSON.stringify({ ...dead, pid: await deadPid(), token: 'x' }));
    const cut = (await acquireStateLock(dir, 'home', 'up', { signals: false }).catch((e: unknown) => e)) as StateLockedError;
    expect(cut.hint).toBe(
      `No revue-pi run holds cluster home: delete ${join(dir, LOCK_FILE)} and ${join(dir, `${LOCK_FILE}.reap-${dead.token}`)}, then run again.`,
    );
  });

  it('a stale lock raced for by six processes at once goes to exactly one of them; the others name it', async () => {
    const dir = stateDir();
    writeLock(dir, { pid: await deadPid() });
    // All start trying at the same moment, once every process is up (tsx takes a while on a busy machine).
    const startAt = Date.now() + 4000;
    const racers = Array.from({ length: 6 }, () => child(dir, undefined, startAt));
    try {
      const results = await Promise.all(racers.map((r) => r.result));
      const winners = results.filter((r) => r.won);
      expect(winners).toHaveLength(1);
      const held = parseLockHolder(readFileSync(join(dir, LOCK_FILE), 'utf8')) as LockHolder;
      expect(held.token).toBe(winners[0]!.token);
      for (const loser of results.filter((r) => !r.won)) expect(loser.message).toContain(`pid ${held.pid} on host ${hostname()}`);
    } finally {
      for (const r of racers) r.kill('SIGKILL');
    }
  });

  it('is released when the holder is stopped by SIGTERM or SIGINT, and the process still ends by that signal', async () => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      const dir = stateDir();
      const holder = child(dir);
      expect((await holder.result).won).toBe(true);
      expect(existsSync(join(dir, LOCK_FILE))).toBe(true);
      holder.kill(signal);
      expect(await holder.done).toEqual({ code: null, signal });
      expect(readdirSync(dir)).toEqual([]);
    }
  });

  it("is released at a normal exit; release leaves alone a lock that is no longer this run's", async () => {
    const dir = stateDir();
    const holder = child(dir, 50);
    expect((await holder.result).won).toBe(true);
    expect(await holder.done).toEqual({ code: 0, signal: null });
    expect(readdirSync(dir)).toEqual([]);

    const lock = await acquireStateLock(dir, 'home', 'up', { signals: false });
    writeLock(dir, { pid: process.pid, token: 'someone-else' });
    lock.release();
    expect((parseLockHolder(readFileSync(join(dir, LOCK_FILE), 'utf8')) as LockHolder).token).toBe('someone-else');
  });

  it('ago() says how long ago, roughly', () => {
    const now = new Date('2025-01-01T12:00:00Z');
    expect(ago('2025-01-01T11:59:20Z', now)).toBe('40 s ago');
    expect(ago('2025-01-01T11:30:00Z', now)).toBe('30 min ago');
    expect(ago('2025-01-01T07:00:00Z', now)).toBe('5 h ago');
  });
});
