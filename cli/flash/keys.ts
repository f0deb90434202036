import { createHash } from 'node:crypto';

/**
 * The operator's SSH public key, checked before it goes onto the card. Pure: the command reads the file,
 * this decides whether it is one usable OpenSSH public key line.
 */

export interface PublicKey {
  /** e.g. ssh-ed25519 */
  type: string;
  /** The base64 key blob. */
  blob: string;
  comment?: string;
  /** `type blob [comment]`, one line, as it goes into authorized_keys. */
  line: string;
  /** OpenSSH-style SHA256 fingerprint (`SHA256:…`), for messages. */
  fingerprint: string;
}

const KEY_TYPES = new Set([
  'ssh-ed25519',
  'ssh-rsa',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'sk-ssh-ed25519@openssh.com',
  'sk-ecdsa-sha2-nistp256@openssh.com',
]);

export type PublicKeyResult = { ok: true; key: PublicKey } | { ok: false; problem: string };

/**
 * Parses the content of a `.pub` file. `source` names the file in messages. A private key is refused
 * without echoing any of it.
 */
export function parsePublicKey(text: string, source: string): PublicKeyResult {
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text) || /^PuTTY-User-Key-File/m.test(text)) {
    return {
      ok: false,
      problem: `${source} is a PRIVATE key; flash needs the public half (the same path with .pub at the end). Nothing from it was printed or written.`,
    };
  }
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  if (lines.length === 0) return { ok: false, problem: `${source} is empty; it should hold one line like "ssh-ed25519 AAAA… you@laptop".` };
  if (lines.length > 1) {
    return { ok: false, problem: `${source} holds ${lines.length} lines; pass a .pub file with exactly one public key.` };
  }
  const [type, blob, ...rest] = lines[0]!.split(/\s+/);
  if (type === undefined || !KEY_TYPES.has(type)) {
    return {
      ok: false,
      problem: `${source} does not start with a known key type (ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256, …); is it an OpenSSH public key?`,
    };
  }
  if (blob === undefined || !/^[A-Za-z0-9+/]+={0,2}$/.test(blob)) {
    return { ok: false, problem: `${source}: the key data after "${type}" is not base64; the file looks damaged.` };
  }
  const raw = Buffer.from(blob, 'base64');
  // The blob starts with the key type again as an SSH string: a cheap check that the two agree.
  const declared = raw.length >= 4 ? raw.subarray(4, 4 + raw.readUInt32BE(0)).toString('latin1') : '';
  if (declared !== type) {
    return { ok: false, problem: `${source}: the key data does not match its type "${type}"; the file looks damaged.` };
  }
  const comment = rest.length > 0 ? rest.join(' ') : undefined;
  const line = comment === undefined ? `${type} ${blob}` : `${type} ${blob} ${comment}`;
  return { ok: true, key: { type, blob, comment, line, fingerprint: keyFingerprint(blob) } };
}

/** `SHA256:` + unpadded base64 of the SHA-256 of the key blob, as `ssh-keygen -lf` prints it. */
export function keyFingerprint(blob: string): string {
  const digest = createHash('sha256').update(Buffer.from(blob, 'base64')).digest('base64');
  return `SHA256:${digest.replace(/=+$/, '')}`;
}
