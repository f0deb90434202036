import { readdirSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { RevuePiError } from '../errors.js';
import { globMatch } from '../remote/known-hosts.js';
import { parseSshConfig, SshConfigSyntaxError, type ConfigDirective } from './parse.js';

/**
 * Finds and reads the OpenSSH client config revue-pi honours: ssh.configFile in the inventory, else
 * $REVUE_PI_SSH_CONFIG, else ~/.ssh/config (`none` reads nothing). Include is expanded as OpenSSH does it: glob
 * patterns, relative paths from ~/.ssh, the included directives inside the block of the Include line.
 * /etc/ssh/ssh_config is not read.
 */

export interface LoadedSshConfig {
  /** The main file, as shown in messages (`~/…` when under the home folder). */
  file: string;
  directives: ConfigDirective[];
}

/** OpenSSH's READCONF_MAX_DEPTH. */
const MAX_INCLUDE_DEPTH = 16;

export interface SshConfigSource {
  /** The file to read, or undefined for none. */
  path: string | undefined;
  /** Where the choice came from, for messages: `ssh.configFile`, `REVUE_PI_SSH_CONFIG` or `default`. */
  from: 'ssh.configFile' | 'REVUE_PI_SSH_CONFIG' | 'default';
}

export function sshConfigSource(configFile: string | undefined, env: NodeJS.ProcessEnv, home: string): SshConfigSource {
  const pick = (value: string, from: SshConfigSource['from']): SshConfigSource => ({ path: value === 'none' ? undefined : expandTilde(value, home), from });
  if (configFile) return pick(configFile, 'ssh.configFile');
  if (env.REVUE_PI_SSH_CONFIG) return pick(env.REVUE_PI_SSH_CONFIG, 'REVUE_PI_SSH_CONFIG');
  return { path: join(home, '.ssh', 'config'), from: 'default' };
}

export function homeOf(env: NodeJS.ProcessEnv): string {
  return env.HOME || homedir();
}

function expandTilde(p: string, home: string): string {
  if (p === '~') return home;
  return p.startsWith('~/') ? join(home, p.slice(2)) : p;
}

/** `/home/me/.ssh/config` → `~/.ssh/config`, for messages. */
export function shortPath(p: string, home: string): string {
  return home && p.startsWith(`${home}/`) ? `~/${p.slice(home.length + 1)}` : p;
}

/**
 * Reads the config. A missing default file is no config; a missing file that was named (inventory or environment)
 * and a file the parser refuses are errors (exit 2, nothing contacted).
 */
export function loadSshConfig(source: SshConfigSource, home: string): LoadedSshConfig | undefined {
  if (!source.path) return undefined;
  let text: string;
  try {
    text = readFileSync(source.path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (source.from === 'default' && (code === 'ENOENT' || code === 'ENOTDIR')) return undefined;
    throw new RevuePiError(`The SSH config file ${source.path} (from ${source.from}) cannot be read: ${(err as Error).message}.`, {
      code: 'SSH_CONFIG',
      hint:
        source.from === 'ssh.configFile'
          ? 'Fix ssh.configFile in the inventory, or set it to none.'
          : source.from === 'REVUE_PI_SSH_CONFIG'
            ? 'Fix or unset REVUE_PI_SSH_CONFIG.'
            : 'Make the file readable.',
      cause: err,
    });
  }
  const file = shortPath(source.path, home);
  const read = (path: string, shown: string, body: string) => {
    try {
      return parseSshConfig(body, shown);
    } catch (err) {
      if (err instanceof SshConfigSyntaxError) {
        throw new RevuePiError(`The SSH config file ${shown} cannot be parsed: ${err.detail}.`, {
          code: 'SSH_CONFIG',
          hint: `Fix the line in ${path} (ssh -G <host> shows what OpenSSH makes of it).`,
        });
      }
      throw err;
    }
  };
  const directives = expandIncludes(read(source.path, file, text), home, 1, (path) => {
    const body = readFileSync(path, 'utf8');
    return read(path, shortPath(path, home), body);
  });
  return { file, directives };
}

/** Replaces each Include with the directives of the files it names, inside the Include line's blocks. */
export function expandIncludes(directives: ConfigDirective[], home: string, depth: number, readConfig: (path: string) => ConfigDirective[]): ConfigDirective[] {
  const out: ConfigDirective[] = [];
  for (const d of directives) {
    if (d.keyword !== 'include') {
      out.push(d);
      continue;
    }
    if (depth >= MAX_INCLUDE_DEPTH) {
      throw new RevuePiError(`${d.origin.file}:${d.origin.line}: Include nests deeper than ${MAX_INCLUDE_DEPTH} files (an Include loop?).`, {
        code: 'SSH_CONFIG',
      });
    }
    for (const pattern of d.values) {
      const absolute = expandTilde(pattern, home);
      // As OpenSSH for the user's config: a relative path is relative to ~/.ssh.
      for (const path of globFiles(isAbsolute(absolute) ? absolute : join(home, '.ssh', absolute))) {
        const included = readConfig(path).map((inner) => ({ ...inner, conditions: [...d.conditions, ...inner.conditions] }));
        out.push(...expandIncludes(included, home, depth + 1, readConfig));
      }
    }
  }
  return out;
}

/** The files a pattern with `*` and `?` names, sorted as glob(3) sorts them; none when nothing matches. */
export function globFiles(pattern: string): string[] {
  const parts = pattern.split('/');
  let paths = [parts[0] === '' ? '/' : parts[0]!];
  for (const part of parts.slice(1)) {
    if (part === '') continue;
    const next: string[] = [];
    for (const dir of paths) {
      if (!part.includes('*') && !part.includes('?')) {
        next.push(join(dir, part));
        continue;
      }
      let names: string[];
      try {
        names = readdirSync(dir);
      } catch {
        continue;
      }
      for (const name of names.sort()) if (!name.startsWith('.') && globMatch(part, name)) next.push(join(dir, name));
    }
    paths = next;
  }
  return paths.filter((p) => {
    try {
      return statSync(p).isFile();
    } catch {
      return false;
    }
  });
}
