import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The cluster token: a secret revue-pi generates once and keeps in the state directory (0600). K3s accepts a
 * plain secret on the first server; every later join uses the same file, so nothing is read back from K3s.
 */
export type RandomSource = (bytes: number) => Buffer;

/** 32 random bytes as hex: no `:` (K3s splits full tokens on `::`), nothing a shell or YAML would mangle. */
export function generateToken(random: RandomSource = randomBytes): string {
  return random(32).toString('hex');
}

/** What goes into TOKEN_FILE_PATH (K3s trims the trailing newline). */
export function tokenFileContent(token: string): string {
  return `${token}\n`;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** The secret inside a token: `K10<ca-hash>::server:<secret>` → `<secret>`; a plain secret stays as it is. */
export function tokenSecret(token: string): string {
  const match = /^K10[0-9a-f]+::[^:]+:(.+)$/.exec(token.trim());
  return match ? match[1]! : token.trim();
}

/** What a node's probe reports for the server's own token file: sha256 of its secret and a newline (cluster/facts.ts). */
export function serverSecretSha256(token: string): string {
  return sha256Hex(`${tokenSecret(token)}\n`);
}

/** The token kept in the per-cluster state directory, if any (`<stateDir>/token`, 0600). */
export function readStateToken(stateDir: string): string | undefined {
  try {
    return readFileSync(join(stateDir, 'token'), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}
