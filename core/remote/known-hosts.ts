import { createHash, createHmac } from 'node:crypto';
import { appendFile, chmod, mkdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, resolve } from 'node:path';

/**
 * Host keys: trust on first use into the tool's own known_hosts file, and honour the user's
 * ~/.ssh/known_hosts (plain and hashed entries). The parsing, matching, formatting and fingerprint
 * helpers are pure; the KnownHosts class does the file I/O. What is said about a key is in host-key-text.ts.
 */

/** One key line of a known_hosts file (OpenSSH format). */
export interface KnownHostEntry {
  /** `@revoked` keys are refused; `@cert-authority` lines are kept but never match a plain host key. */
  marker?: '@revoked' | '@cert-authority';
  /** The host field as written: `a,b,[c]:2222`, patterns with `*`/`?`/`!`, or a hashed `|1|salt|hash`. */
  hosts: string;
  keyType: string;
  /** Base64 of the raw public key blob. */
  key: string;
  /** 1-based line number in its file. */
  line: number;
}

/** A key recorded for a host, and where. */
export interface KnownKey extends KnownHostEntry {
  file: string;
}

export type HostKeyVerdict =
  /** A recorded key matches the presented one. */
  | { status: 'known'; entry: KnownKey }
  /** Nothing is recorded for this host: trust on first use. */
  | { status: 'new' }
  /** Keys are recorded for this host and none matches the presented key. */
  | { status: 'changed'; recorded: KnownKey[] }
  /** The presented key is marked @revoked. */
  | { status: 'revoked'; entry: KnownKey };

/** The name OpenSSH looks a host up under: `host` on port 22, `[host]:port` otherwise. */
export function hostLookupName(host: string, port: number): string {
  const h = host.toLowerCase();
  return port === 22 ? h : `[${h}]:${port}`;
}

/** `host:port` for messages (IPv6 addresses in brackets). */
export function displayAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Parses a known_hosts file; comments, blank and malformed lines are skipped. */
export function parseKnownHosts(text: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = (lines[i] ?? '').trim();
    if (raw === '' || raw.startsWith('#')) continue;
    const fields = raw.split(/\s+/);
    let marker: KnownHostEntry['marker'];
    if (fields[0]?.startsWith('@')) {
      const m = fields.shift();
      if (m !== '@revoked' && m !== '@cert-authority') continue;
      marker = m;
    }
    const [hosts, keyType, key] = fields;
    if (!hosts || !keyType || !key || !/^[A-Za-z0-9+/]+={0,2}$/.test(key)) continue;
    entries.push({ ...(marker ? { marker } : {}), hosts, keyType, key, line: i + 1 });
  }
  return entries;
}

/** One known_hosts line (no newline) for an unhashed entry. */
export function formatKnownHostsLine(host: string, port: number, rawKey: Buffer): string {
  return `${hostLookupName(host, port)} ${keyTypeOf(rawKey)} ${rawKey.toString('base64')}`;
}

/** The `|1|salt|hash` form OpenSSH writes with HashKnownHosts (HMAC-SHA1 of the lookup name, keyed by the salt). */
export function hashHostName(name: string, salt: Buffer): string {
  const hash = createHmac('sha1', salt).update(name).digest();
  return `|1|${salt.toString('base64')}|${hash.toString('base64')}`;
}

/** Whether a known_hosts host field matches `host` on `port`. */
export function hostFieldMatches(field: string, host: string, port: number): boolean {
  const name = hostLookupName(host, port);
  if (field.startsWith('|1|')) {
    const [, , salt, hash] = field.split('|');
    if (!salt || !hash) return false;
    return hashHostName(name, Buffer.from(salt, 'base64')) === field;
  }
  // As OpenSSH's match_hostname: a matching negated pattern vetoes; otherwise any positive match wins.
  let matched = false;
  for (const pattern of field.toLowerCase().split(',')) {
    if (pattern === '') continue;
    const negated = pattern.startsWith('!');
    const p = negated ? pattern.slice(1) : pattern;
    if (globMatch(p, name)) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}

/** `*` and `?` wildcards, as in ssh_config host patterns. */
export function globMatch(pattern: string, text: string): boolean {
  // Most fields are plain names: no RegExp to build for each entry on every connection.
  if (!pattern.includes('*') && !pattern.includes('?')) return pattern === text;
  const re = new RegExp(
    '^' +
      pattern
        .split('')
        .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
        .join('') +
      '$',
    's',
  );
  return re.test(text);
}

/** The key type named inside a raw SSH public key blob (its first length-prefixed string). */
export function keyTypeOf(rawKey: Buffer): string {
  if (rawKey.length < 4) throw new Error('not an SSH public key (too short)');
  const len = rawKey.readUInt32BE(0);
  if (len === 0 || len > 64 || 4 + len > rawKey.length) throw new Error('not an SSH public key (bad type field)');
  return rawKey.subarray(4, 4 + len).toString('latin1');
}

/** OpenSSH's fingerprint: `SHA256:` + unpadded base64 of the SHA-256 of the raw key. */
export function fingerprintSha256(rawKey: Buffer | string): string {
  const buf = typeof rawKey === 'string' ? Buffer.from(rawKey, 'base64') : rawKey;
  return 'SHA256:' + createHash('sha256').update(buf).digest('base64').replace(/=+$/, '');
}

/**
 * Decides what to do with a presented host key given every recorded entry (from all files).
 * Like OpenSSH: a revoked key is refused; a key recorded for the host is accepted; a host with
 * recorded keys but none equal to the presented one is "changed" (the connection asks for the
 * recorded key types first — see preferredHostKeyAlgorithms — so a different type also means a change).
 */
export function checkHostKey(entries: KnownKey[], host: string, port: number, rawKey: Buffer): HostKeyVerdict {
  const presented = rawKey.toString('base64');
  const revoked = entries.find((e) => e.marker === '@revoked' && e.key === presented);
  if (revoked) return { status: 'revoked', entry: revoked };
  const forHost = entries.filter((e) => e.marker === undefined && hostFieldMatches(e.hosts, host, port));
  const same = forHost.find((e) => e.key === presented);
  if (same) return { status: 'known', entry: same };
  if (forHost.length > 0) return { status: 'changed', recorded: forHost };
  return { status: 'new' };
}

/** The host key algorithms ssh2 can negotiate, in its default order. */
export const HOST_KEY_ALGORITHMS = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
] as const;

/** Signature algorithms that prove a key of the given type. */
function algorithmsForKeyType(keyType: string): string[] {
  return keyType === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [keyType];
}

/**
 * Host key algorithms to offer, the types already recorded for the host first (as OpenSSH does),
 * so a server holding several keys presents the one we know.
 */
export function preferredHostKeyAlgorithms(knownTypes: string[]): string[] {
  const first = knownTypes.flatMap(algorithmsForKeyType).filter((a) => (HOST_KEY_ALGORITHMS as readonly string[]).includes(a));
  return [...new Set([...first, ...HOST_KEY_ALGORITHMS])];
}

/** `~` and `~/…` expanded against `home`. */
export function expandHome(path: string, home: string): string {
  if (path === '~') return home;
  if (path.startsWith('~/')) return resolve(home, path.slice(2));
  return resolve(path);
}

/** Appends per file are chained here so concurrent first connections never interleave or lose lines. */
const appendQueues = new Map<string, Promise<unknown>>();

function serialised<T>(key: string, task: () => Promise<T>): Promise<T> {
  const previous = appendQueues.get(key) ?? Promise.resolve();
  const next = previous.then(task, task);
  const settled = next.catch(() => undefined);
  appendQueues.set(key, settled);
  void settled.then(() => {
    if (appendQueues.get(key) === settled) appendQueues.delete(key);
  });
  return next;
}

async function readIfExists(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return '';
    throw err;
  }
}

export interface KnownHostsOptions {
  /** The tool's own file (TOFU target). Default `$XDG_CONFIG_HOME/revue-pi/known_hosts`, else `~/.config/revue-pi/known_hosts`. */
  file?: string;
  /** Read-only files also honoured. Default `~/.ssh/known_hosts`. */
  userFiles?: string[];
  /** Home directory for `~` (default: os.homedir()). */
  home?: string;
  /** Where XDG_CONFIG_HOME is read (default process.env). */
  env?: NodeJS.ProcessEnv;
}

/** revue-pi's own known_hosts when the inventory names none: under XDG_CONFIG_HOME, as the XDG base directory spec says. */
export function defaultKnownHostsFile(env: NodeJS.ProcessEnv = process.env, home: string = homedir()): string {
  // The XDG base directory spec: a relative XDG_CONFIG_HOME is invalid and ignored.
  const base = env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME.startsWith('/') ? env.XDG_CONFIG_HOME : resolve(home, '.config');
  return resolve(base, 'revue-pi', 'known_hosts');
}

/** The host keys this tool trusts: its own file (written on first use) plus the user's (read only). */
export class KnownHosts {
  readonly file: string;
  readonly userFiles: readonly string[];

  constructor(opts: KnownHostsOptions = {}) {
    const home = opts.home ?? homedir();
    this.file = opts.file ? expandHome(opts.file, home) : defaultKnownHostsFile(opts.env, home);
    this.userFiles = (opts.userFiles ?? ['~/.ssh/known_hosts']).map((f) => expandHome(f, home));
  }

  /** What entries() read, kept for the run: every connection checks twice, ten nodes at once. trust() drops it. */
  private read?: Promise<KnownKey[]>;

  /** Every entry of every file, each tagged with its file. Read once; again after this instance writes. */
  entries(): Promise<KnownKey[]> {
    this.read ??= (async () => {
      const files = [this.file, ...this.userFiles.filter((f) => f !== this.file)];
      const texts = await Promise.all(files.map(readIfExists));
      return files.flatMap((file, i) => parseKnownHosts(texts[i] ?? '').map((e) => ({ ...e, file })));
    })();
    const read = this.read;
    read.catch(() => {
      if (this.read === read) this.read = undefined;
    });
    return read;
  }

  async check(host: string, port: number, rawKey: Buffer): Promise<HostKeyVerdict> {
    return checkHostKey(await this.entries(), host, port, rawKey);
  }

  /** Key types recorded for the host (unrevoked), for preferredHostKeyAlgorithms. */
  async knownKeyTypes(host: string, port: number): Promise<string[]> {
    const entries = await this.entries();
    return [...new Set(entries.filter((e) => e.marker === undefined && hostFieldMatches(e.hosts, host, port)).map((e) => e.keyType))];
  }

  /**
   * Records a key trusted on first use in the tool's file (mode 0600, folder 0700). Serialised per file and
   * re-checked under the lock, so the same host is written once even when several connections race.
   * Returns false when the key was already recorded.
   */
  async trust(host: string, port: number, rawKey: Buffer): Promise<boolean> {
    return serialised(this.file, async () => {
      const text = await readIfExists(this.file);
      const presented = rawKey.toString('base64');
      const already = parseKnownHosts(text).some((e) => e.marker === undefined && e.key === presented && hostFieldMatches(e.hosts, host, port));
      if (already) return false;
      await mkdir(dirname(this.file), { recursive: true, mode: 0o700 });
      const sep = text !== '' && !text.endsWith('\n') ? '\n' : '';
      await appendFile(this.file, `${sep}${formatKnownHostsLine(host, port, rawKey)}\n`, { mode: 0o600 });
      await chmod(this.file, 0o600);
      this.read = undefined;
      return true;
    });
  }
}
