import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import ssh2 from 'ssh2';

/** The SSH key files the wizard offers: found in ~/.ssh, or named by the user. */

/** A private key in ~/.ssh with its .pub beside it. */
export interface FoundKey {
  /** As shown and written to the inventory: `~/.ssh/id_ed25519`. */
  shown: string;
  file: string;
  encrypted: boolean;
}

const PREFERRED_KEYS = ['id_ed25519', 'id_ecdsa', 'id_rsa'];

/** The private keys in `~/.ssh` that have a `.pub` beside them and parse as keys; id_ed25519, id_ecdsa, id_rsa first. */
export function findSshKeys(home: string): FoundKey[] {
  const dir = path.join(home, '.ssh');
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const rank = (n: string) => (PREFERRED_KEYS.includes(n) ? PREFERRED_KEYS.indexOf(n) : PREFERRED_KEYS.length);
  return names
    .filter((n) => !n.endsWith('.pub') && names.includes(`${n}.pub`))
    .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b))
    .flatMap((n) => {
      const file = path.join(dir, n);
      const state = keyFileState(file);
      return state === 'invalid' ? [] : [{ shown: `~/.ssh/${n}`, file, encrypted: state === 'encrypted' }];
    });
}

export function keyFileState(file: string): 'ok' | 'encrypted' | 'invalid' {
  let data: Buffer;
  try {
    if (!statSync(file).isFile()) return 'invalid';
    data = readFileSync(file);
  } catch {
    return 'invalid';
  }
  const parsed = ssh2.utils.parseKey(data);
  if (parsed instanceof Error) return /passphrase|encrypted|decrypt/i.test(parsed.message) ? 'encrypted' : 'invalid';
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  return key?.isPrivateKey() ? 'ok' : 'invalid';
}

/** `/home/me/.ssh/x` → `~/.ssh/x`; other paths absolute. */
export function shownPath(file: string, home: string): string {
  const abs = path.resolve(file);
  const rel = path.relative(home, abs);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel) ? `~/${rel}` : abs;
}

/** A key file as typed (`~/` expands to home) → its absolute path. */
export function expandKeyPath(typed: string, home: string): string {
  return path.resolve(typed.startsWith('~/') ? path.join(home, typed.slice(2)) : typed);
}
