import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { writePrivateFile } from '../../core/state.js';
import type { InitAnswers, InitNode, SshLogin, WorkloadChoice } from './answers.js';
import { formatNodeAddress } from './validate.js';

/**
 * What an interrupted `revue-pi init` had been told, kept so the next run can continue from there. It holds answers
 * only (environment variable NAMES, never a secret), mode 0600, in the state folder — not beside the inventory,
 * which a stopped wizard leaves untouched. Deleted once the inventory is written.
 */
export interface InitProgress {
  /** The inventory file it was for (absolute). */
  output: string;
  clusterName?: string;
  user?: string;
  login?: SshLogin;
  /** Nodes already probed (or kept unprobed) and accepted. */
  nodes: InitNode[];
  sudoPasswordEnv?: string;
  domain?: string;
  workloads?: WorkloadChoice;
  pool?: string;
  k3s?: Pick<InitAnswers, 'k3sVersion' | 'k3sChannel'>;
  /** Host keys trusted on the way, as `pi-1 (192.168.1.101)`: recorded in the known_hosts file at once. */
  trusted: string[];
}

export function emptyProgress(output: string): InitProgress {
  return { output: resolve(output), nodes: [], trusted: [] };
}

/** `$XDG_STATE_HOME/revue-pi/init/<hash of the inventory path>.json`, else under ~/.local/state. */
export function progressFile(output: string, env: NodeJS.ProcessEnv): string {
  const base = env.XDG_STATE_HOME && isAbsolute(env.XDG_STATE_HOME) ? env.XDG_STATE_HOME : join(env.HOME || homedir(), '.local', 'state');
  const id = createHash('sha256').update(resolve(output)).digest('hex').slice(0, 16);
  return join(base, 'revue-pi', 'init', `${id}.json`);
}

/** Whether anything was answered that is worth continuing from. */
export function hasAnswers(p: InitProgress): boolean {
  return p.clusterName !== undefined;
}

export function readProgress(file: string, output: string): InitProgress | undefined {
  try {
    const p = JSON.parse(readFileSync(file, 'utf8')) as InitProgress;
    return p.output === resolve(output) && Array.isArray(p.nodes) && Array.isArray(p.trusted) ? p : undefined;
  } catch {
    return undefined;
  }
}

export function saveProgress(file: string, p: InitProgress): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writePrivateFile(file, `${JSON.stringify(p, null, 2)}\n`);
}

export function forgetProgress(file: string): void {
  rmSync(file, { force: true });
}

/** One line per answer kept, for the question whether to continue. Pure. */
export function describeProgress(p: InitProgress): string[] {
  const login = p.login
    ? p.login.kind === 'agent'
      ? 'the ssh-agent'
      : p.login.kind === 'key'
        ? `the key ${p.login.keyPath}`
        : `a password from ${p.login.passwordEnv}`
    : undefined;
  return [
    ...(p.clusterName !== undefined ? [`cluster ${p.clusterName}`] : []),
    ...(p.user !== undefined ? [`SSH user ${p.user}${login ? `, logging in with ${login}` : ''}`] : []),
    ...(p.nodes.length > 0 ? [`nodes ${p.nodes.map((n) => `${n.name} (${formatNodeAddress(n)}, ${n.role})`).join(', ')}`] : []),
    ...(p.domain !== undefined ? [`domain ${p.domain}`] : []),
    ...(p.workloads
      ? [
          `workloads ${
            Object.entries(p.workloads)
              .filter(([, on]) => on)
              .map(([w]) => w)
              .join(', ') || 'none'
          }`,
        ]
      : []),
    ...(p.pool !== undefined ? [`MetalLB range ${p.pool}`] : []),
  ];
}

/**
 * What a stopped wizard says, truthfully: the inventory was not written; the host keys trusted on the way were
 * recorded (and stay trusted); the answers are kept for the next run. Pure.
 */
export function stoppedText(p: InitProgress, files: { knownHosts: string; progress?: string }, outputShown: string): string {
  const lines = [`Stopped: ${outputShown} was not written.`];
  if (p.trusted.length > 0) {
    lines.push(`The host keys you trusted were recorded in ${files.knownHosts} and stay trusted: ${p.trusted.join(', ')}.`);
  }
  if (files.progress) {
    lines.push(
      `Your answers so far are kept in ${files.progress}: run revue-pi init${outputShown === 'inventory.yaml' ? '' : ` -o ${outputShown}`} again to continue from there.`,
    );
  }
  if (p.trusted.length === 0 && !files.progress) lines[0] = 'Stopped: nothing was written.';
  return `\n${lines.join('\n')}\n`;
}
