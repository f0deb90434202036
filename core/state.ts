import { mkdirSync, chmodSync, existsSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';

/**
 * The per-cluster state directory (0700): run logs, and later the cluster token and workload secrets
 * (each 0600). `REVUE_PI_STATE_DIR` or `--state-dir` move it; the default follows XDG.
 */
export function stateDirFor(clusterName: string, override?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (override) return override;
  if (env.REVUE_PI_STATE_DIR) return join(env.REVUE_PI_STATE_DIR, clusterName);
  // The XDG base directory spec: a relative XDG_STATE_HOME is invalid and ignored.
  const base = env.XDG_STATE_HOME && isAbsolute(env.XDG_STATE_HOME) ? env.XDG_STATE_HOME : join(env.HOME || homedir(), '.local', 'state');
  return join(base, 'revue-pi', clusterName);
}

export function ensurePrivateDir(dir: string): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  return dir;
}

/** Writes a secret-holding file atomically with mode 0600. */
export function writePrivateFile(path: string, content: string): void {
  const temp = `${path}.tmp-${process.pid}`;
  writeFileSync(temp, content, { mode: 0o600 });
  chmodSync(temp, 0o600);
  renameSync(temp, path);
}

export function readTextIfExists(path: string): string | undefined {
  return existsSync(path) ? readFileSync(path, 'utf8') : undefined;
}
