import { createHash, randomBytes } from 'node:crypto';
import { readFile as readLocalFile } from 'node:fs/promises';
import { constants as osConstants, homedir } from 'node:os';
import { NodeSSH } from 'node-ssh';
import ssh2 from 'ssh2';
import type { AnyAuthMethod, AuthenticationType, Client, ConnectConfig, ParsedKey, SFTPWrapper } from 'ssh2';
import { ConnectionError, HostKeyMismatchError, RemoteCommandError, RevuePiError } from '../errors.js';
import type { NodeSshSettings } from '../inventory/schema.js';
import {
  buildInstallFilesScript,
  buildReadFileScript,
  buildScriptCommand,
  buildScriptFileCommand,
  buildStdinScriptCommand,
  stdinScript,
  effectiveScript,
  MAX_INLINE_SCRIPT_BASE64,
  MAX_INLINE_FILES_BYTES,
  buildInlineFilesScript,
  NO_SUCH_FILE_EXIT,
  NO_SUCH_FILE_MESSAGE,
  parseSudoStderr,
  type SudoMode,
} from './commands.js';
import { sh, type ShellScript } from './shell.js';
import {
  describePinnedKeyMismatch,
  describeUnknownKeyRefusal,
  displayAddress,
  expandHome,
  fingerprintSha256,
  keyTypeOf,
  type HostKeySeen,
  type KnownHosts,
  preferredHostKeyAlgorithms,
} from './known-hosts.js';
import { maskSecrets } from './mask.js';
import type { FileToWrite, RunOptions, RunResult, Transport, WriteFileOptions } from './transport.js';

/**
 * The production transport: one SSH connection per node (node-ssh over ssh2), opened by connectNode and
 * reused by every step. Commands and scripts are built by the pure functions in commands.ts.
 */

export interface ConnectNodeOptions {
  /** The node's inventory name, used in every message. */
  nodeName: string;
  knownHosts: KnownHosts;
  /** Where the jump host's key is checked, when not in knownHosts (the ssh config gives it its own UserKnownHostsFile). */
  jumpKnownHosts?: KnownHosts;
  /** Per attempt, covering TCP connect, handshake and login. Default: settings.connectTimeoutSeconds. */
  connectTimeoutMs?: number;
  /** Extra attempts after the first when the node cannot be reached (never after an auth or host key failure). Default: settings.connectRetries. */
  retries?: number;
  /** Where the secrets named in the settings are read (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** First delay between attempts, doubled each time (capped at 5 s). Default 500 ms. */
  retryDelayMs?: number;
  /** A host key in no known_hosts file: accept-new records it, strict refuses it. Default: settings.hostKeys, else accept-new. */
  hostKeys?: 'strict' | 'accept-new';
  /** The node's pinned fingerprint (nodes[].hostKeyFingerprint): any other key is refused, this one is trusted. */
  pinnedFingerprint?: string;
  /** The inventory field of the pin, for messages (e.g. `nodes[2].hostKeyFingerprint`). */
  pinField?: string;
  /** Called after a new host key was recorded (accept-new or pinned), for the run to print and log. */
  onHostKeyTrusted?: (seen: HostKeySeen) => void;
}

/** Exit code of a command killed by its timeout (as coreutils `timeout`). */
export const TIMEOUT_EXIT = 124;

/** Delay before attempt `attempt + 1`: base·2^(attempt−1), capped. */
export function backoffDelay(attempt: number, baseMs: number, capMs: number): number {
  return Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1));
}

/** The SSH identity files OpenSSH tries when none is configured, in its order. */
export const DEFAULT_IDENTITY_FILES = ['~/.ssh/id_ed25519', '~/.ssh/id_ecdsa', '~/.ssh/id_rsa'];

interface SshError extends Error {
  level?: string;
  code?: string;
}

/** The dial error as a phrase that keeps its cause (ECONNREFUSED, ETIMEDOUT, EHOSTUNREACH, …). */
export function describeDialError(err: unknown, connectTimeoutMs: number): string {
  const e = err as SshError;
  if (e?.level === 'client-timeout') return `timed out after ${Math.round(connectTimeoutMs / 100) / 10} s waiting for the SSH handshake (ETIMEDOUT)`;
  const message = e instanceof Error ? e.message : String(err);
  return e?.code && !message.includes(e.code) ? `${message} (${e.code})` : message;
}

/** Login refused: ssh2 ran out of methods, or the server hung up after too many tries (MaxAuthTries). */
export function isAuthFailure(err: unknown): boolean {
  const e = err as SshError | undefined;
  return e?.level === 'client-authentication' || /too many authentication failures/i.test(e?.message ?? '');
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The server refused to open a channel on a live connection (e.g. MaxSessions reached). */
class ChannelOpenError extends Error {
  constructor(readonly error: ConnectionError) {
    super(error.message);
  }
}

/** A failure that retrying cannot fix: wrong credentials, changed host key, missing secret. */
class FinalError extends Error {
  constructor(readonly error: Error) {
    super(error.message);
  }
}

interface Credentials {
  username: string;
  methods: AnyAuthMethod[];
  /** Human names of the methods, for the auth failure message. */
  described: string[];
}

interface Endpoint {
  label: string;
  host: string;
  port: number;
  credentials: Credentials;
  /** Where this endpoint's host key is checked, when not the transport's (a jump host with its own UserKnownHostsFile). */
  knownHosts?: KnownHosts;
}

/** Looks up the secret named by `field`; a named but unset variable is an error naming both. */
function secretFromEnv(env: NodeJS.ProcessEnv, name: string | undefined, field: string, node: string): string | undefined {
  if (name === undefined) return undefined;
  const value = env[name];
  if (value === undefined || value === '') {
    throw new RevuePiError(`The environment variable ${name} is not set, but the inventory names it in ${field} for node ${node}.`, {
      code: 'SECRET_MISSING',
      node,
      hint: `Export ${name} before running revue-pi, or remove ${field} from the inventory.`,
    });
  }
  return value;
}

interface LoadedKey {
  path: string;
  key: ParsedKey;
}

/**
 * Decrypted keys by file and passphrase: an encrypted OpenSSH key costs a bcrypt KDF run (most of a second,
 * blocking), so it is done once per run, not once per node and attempt.
 */
const parsedKeys = new Map<string, ParsedKey | Error>();

function parseKeyOnce(path: string, data: Buffer, passphrase: string | undefined): ParsedKey | Error {
  const id = `${path}\0${createHash('sha256')
    .update(data)
    .update('\0')
    .update(passphrase ?? '')
    .digest('hex')}`;
  let parsed = parsedKeys.get(id);
  if (!parsed) {
    const result = ssh2.utils.parseKey(data, passphrase);
    parsed = Array.isArray(result) ? ((result[0] as ParsedKey | undefined) ?? new Error('no key in the file')) : result;
    parsedKeys.set(id, parsed);
  }
  return parsed;
}

/** Reads and checks a private key, so a missing file or wrong passphrase is a sentence, not an ssh2 error. */
async function loadKey(
  path: string,
  shown: string,
  field: string,
  passphrase: string | undefined,
  passphraseEnv: string | undefined,
  node: string,
  required: boolean,
): Promise<LoadedKey | undefined> {
  let data: Buffer;
  try {
    data = await readLocalFile(path);
  } catch (err) {
    if (!required) return undefined;
    throw new RevuePiError(`The SSH key file ${shown} (${field}) for node ${node} cannot be read: ${(err as Error).message}.`, {
      code: 'SSH_KEY',
      node,
      hint: `Fix ${field} in the inventory, or create the key with ssh-keygen and copy it to the node with ssh-copy-id.`,
      cause: err,
    });
  }
  const parsed = parseKeyOnce(path, data, passphrase);
  if (parsed instanceof Error) {
    if (!required) return undefined;
    const encrypted = /passphrase|encrypted|decrypt/i.test(parsed.message);
    const why = encrypted
      ? passphrase === undefined
        ? 'it is encrypted and no passphrase is configured: set ssh.keyPassphraseEnv to the name of an environment variable holding it'
        : `the passphrase in ${passphraseEnv} (ssh.keyPassphraseEnv) does not decrypt it`
      : `it is not a private key ssh2 can read (${parsed.message})`;
    throw new RevuePiError(`The SSH key file ${shown} (${field}) for node ${node} cannot be used: ${why}.`, { code: 'SSH_KEY', node });
  }
  if (!parsed.isPrivateKey()) {
    if (!required) return undefined;
    throw new RevuePiError(`The SSH key file ${shown} (${field}) for node ${node} holds no private key (is it the .pub file?).`, { code: 'SSH_KEY', node });
  }
  return { path: shown, key: parsed };
}

/** Who logs in and with what: the inventory's fields, or the config's IdentityFile / IdentitiesOnly lines. */
interface LoginSettings {
  user: string;
  keyPath?: string;
  keyPassphraseEnv?: string;
  useAgent?: boolean;
  passwordEnv?: string;
  /** The ssh config's IdentityFile paths, tried instead of the default ~/.ssh/id_* files when keyPath is not set. */
  identityFiles?: string[];
  /** The ssh config's IdentitiesOnly: the agent offers only the keys of those identity files. */
  identitiesOnly?: boolean;
}

/**
 * An ssh-agent that offers only some of its keys (IdentitiesOnly): as OpenSSH, the agent still signs for a
 * configured identity it holds (an encrypted key unlocked there), and keeps the others to itself.
 */
class IdentitiesOnlyAgent extends ssh2.OpenSSHAgent {
  constructor(
    socket: string,
    private readonly allowed: ReadonlySet<string>,
  ) {
    super(socket);
  }
  override getIdentities(cb: Parameters<ssh2.OpenSSHAgent['getIdentities']>[0]): void {
    super.getIdentities((err, keys) =>
      cb(
        err,
        keys?.filter((k) => 'getPublicSSH' in k && this.allowed.has((k as ParsedKey).getPublicSSH().toString('base64'))),
      ),
    );
  }
}

/** The public half of an identity file, from the private key when it parsed, else from the .pub file beside it. */
async function publicKeyOf(path: string, loaded: ParsedKey | undefined): Promise<string | undefined> {
  if (loaded) return loaded.getPublicSSH().toString('base64');
  try {
    const parsed = ssh2.utils.parseKey(await readLocalFile(`${path}.pub`));
    return parsed instanceof Error ? undefined : (Array.isArray(parsed) ? parsed[0] : parsed)?.getPublicSSH().toString('base64');
  } catch {
    return undefined;
  }
}

/**
 * Login methods, close to OpenSSH's order: the configured key file first (as OpenSSH puts configured
 * identities first, and so an agent full of other keys cannot use up the server's MaxAuthTries before it),
 * then the ssh-agent's keys (only those of the identity files with IdentitiesOnly), then the ssh config's
 * identity files, or the default ~/.ssh identities when no key is configured, then keyboard-interactive and
 * password (both answered with the configured password).
 */
async function buildCredentials(
  s: LoginSettings,
  keyField: string,
  node: string,
  env: NodeJS.ProcessEnv,
  home: string,
  allowPassword: boolean,
): Promise<Credentials> {
  const username = s.user;
  const methods: AnyAuthMethod[] = [];
  const described: string[] = [];
  const passphrase = secretFromEnv(env, s.keyPassphraseEnv, 'ssh.keyPassphraseEnv', node);
  const identities: { path: string; key: ParsedKey | undefined }[] = [];
  if (s.keyPath) {
    const key = await loadKey(expandHome(s.keyPath, home), s.keyPath, keyField, passphrase, s.keyPassphraseEnv, node, true);
    if (key) {
      methods.push({ type: 'publickey', username, key: key.key });
      described.push(`key ${key.path}`);
      identities.push({ path: expandHome(s.keyPath, home), key: key.key });
    }
  }
  // Files named by the ssh config (or the defaults) are tried after the agent, as OpenSSH does; a missing one is skipped.
  const files = s.keyPath ? [] : (s.identityFiles ?? DEFAULT_IDENTITY_FILES);
  const fileMethods: AnyAuthMethod[] = [];
  const fileDescribed: string[] = [];
  for (const file of files) {
    const path = expandHome(file, home);
    const key = await loadKey(path, file, s.identityFiles ? 'IdentityFile in the ssh config' : keyField, passphrase, s.keyPassphraseEnv, node, false);
    identities.push({ path, key: key?.key });
    if (key) {
      fileMethods.push({ type: 'publickey', username, key: key.key });
      fileDescribed.push(`key ${file}`);
    }
  }
  const agent = env.SSH_AUTH_SOCK;
  if (s.useAgent && agent) {
    if (s.identitiesOnly) {
      const allowed = new Set((await Promise.all(identities.map((i) => publicKeyOf(i.path, i.key)))).filter((k): k is string => k !== undefined));
      methods.push({ type: 'agent', username, agent: new IdentitiesOnlyAgent(agent, allowed) });
      described.push("ssh-agent (only the identity files' keys: IdentitiesOnly)");
    } else {
      methods.push({ type: 'agent', username, agent });
      described.push('ssh-agent');
    }
  }
  methods.push(...fileMethods);
  described.push(...fileDescribed);
  const password = allowPassword ? secretFromEnv(env, s.passwordEnv, 'ssh.passwordEnv', node) : undefined;
  if (password !== undefined) {
    methods.push({ type: 'keyboard-interactive', username, prompt: (_n, _i, _l, prompts, finish) => finish(prompts.map(() => password)) });
    methods.push({ type: 'password', username, password });
    described.push('password');
  }
  return { username, methods, described };
}

/** Offers the methods in order, skipping those the server does not accept (ssh-agent keys go as publickey). */
export function makeAuthHandler(methods: AnyAuthMethod[]) {
  let next = 0;
  return (authsLeft: AuthenticationType[] | null, _partial: boolean, cb: (m: AnyAuthMethod | false) => void) => {
    while (next < methods.length) {
      const m = methods[next++]!;
      const wire = m.type === 'agent' ? 'publickey' : m.type;
      if (!authsLeft || authsLeft.includes(wire)) return cb(m);
    }
    return cb(false);
  };
}

/**
 * Commands in flight per connection. OpenSSH's MaxSessions defaults to 10 and the SFTP session takes one,
 * so more parallel commands than this wait for a free channel instead of failing to open one.
 */
export const MAX_CHANNELS = 8;

/** A counting semaphore. */
export class Slots {
  private free: number;
  private waiting: Array<() => void> = [];
  constructor(size: number) {
    this.free = size;
  }
  async use<T>(task: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((r) => this.waiting.push(r));
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    }
  }
}

interface OpenConnection {
  ssh: NodeSSH;
  client: Client;
  bastion?: NodeSSH;
  sftp?: Promise<SFTPWrapper>;
  home?: Promise<string>;
  alive: boolean;
  /** Settles when the connection is closed, by either end. */
  closed: Promise<void>;
}

export class SshTransport implements Transport {
  readonly nodeName: string;
  private conn: OpenConnection | undefined;
  private opens = 0;
  private closing = false;
  private reopening: Promise<void> | undefined;
  private readonly channels = new Slots(MAX_CHANNELS);

  constructor(
    private readonly opts: Required<Pick<ConnectNodeOptions, 'nodeName' | 'knownHosts' | 'connectTimeoutMs' | 'retries' | 'retryDelayMs' | 'hostKeys'>> &
      Pick<ConnectNodeOptions, 'pinnedFingerprint' | 'pinField' | 'onHostKeyTrusted'>,
    private readonly node: Endpoint,
    private readonly jump: Endpoint | undefined,
    private readonly sudoPassword: string | undefined,
    private readonly sudoPasswordEnv: string | undefined,
    /** Secrets to mask from anything this transport reports. */
    readonly secrets: readonly string[],
  ) {
    this.nodeName = opts.nodeName;
  }

  get connectionCount(): number {
    return this.opens;
  }

  private commands = 0;
  get commandCount(): number {
    return this.commands;
  }

  private get address(): string {
    return displayAddress(this.node.host, this.node.port);
  }

  /** Opens the connection, retrying unreachable nodes with backoff; auth and host key failures are final. */
  async open(): Promise<void> {
    const attempts = this.opts.retries + 1;
    let last: unknown;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        this.conn = await this.dial(this.opts.connectTimeoutMs);
        return;
      } catch (err) {
        if (err instanceof FinalError) throw err.error;
        last = err;
        if (attempt < attempts) await sleep(backoffDelay(attempt, this.opts.retryDelayMs, 5000));
      }
    }
    throw this.unreachable(last, `after ${plural(attempts, 'attempt')}`);
  }

  private unreachable(err: unknown, when: string): ConnectionError {
    const e = err as { stage?: string } | undefined;
    const cause = describeDialError(err, this.opts.connectTimeoutMs);
    if (this.jump && e?.stage === 'jump') {
      return new ConnectionError(
        this.nodeName,
        `Could not reach the jump host ${displayAddress(this.jump.host, this.jump.port)} for node ${this.nodeName} ${when}: ${cause}.`,
        { cause: err, hint: 'Check ssh.jump.host and ssh.jump.port in the inventory, and that SSH is enabled on the jump host.' },
      );
    }
    const via = this.jump ? ` through the jump host ${displayAddress(this.jump.host, this.jump.port)}` : '';
    return new ConnectionError(this.nodeName, `Could not reach node ${this.nodeName} at ${this.address}${via} ${when}: ${cause}.`, {
      cause: err,
      hint: `Check nodes[].host and ssh.port for ${this.nodeName} in the inventory, that the node is powered on, and that SSH is enabled on it.`,
    });
  }

  /** One attempt: the bastion first when there is one, then the node over a forwarded channel. */
  private async dial(timeoutMs: number): Promise<OpenConnection> {
    let bastion: NodeSSH | undefined;
    let sock: NodeJS.ReadableStream | undefined;
    if (this.jump) {
      bastion = await this.login(this.jump, timeoutMs, undefined).catch((err) => {
        if (!(err instanceof FinalError)) (err as { stage?: string }).stage = 'jump';
        throw err;
      });
      try {
        sock = await forwardOut(bastion.connection!, this.node.host, this.node.port, timeoutMs);
      } catch (err) {
        bastion.dispose();
        throw err;
      }
    }
    let ssh: NodeSSH;
    try {
      ssh = await this.login(this.node, timeoutMs, sock);
    } catch (err) {
      bastion?.dispose();
      throw err;
    }
    const client = ssh.connection!;
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    const conn: OpenConnection = { ssh, client, alive: true, closed, ...(bastion ? { bastion } : {}) };
    const dead = () => {
      conn.alive = false;
    };
    // After login nobody else listens: without these an 'error' from ssh2 would crash the process.
    client.on('error', dead);
    client.on('close', () => {
      dead();
      conn.bastion?.dispose();
    });
    bastion?.connection?.on('error', dead);
    bastion?.connection?.on('close', () => {
      dead();
      client.end();
    });
    this.opens++;
    return conn;
  }

  /** Opens and authenticates one SSH connection, checking and recording the host key. */
  private async login(ep: Endpoint, timeoutMs: number, sock: NodeJS.ReadableStream | undefined): Promise<NodeSSH> {
    const knownHosts = ep.knownHosts ?? this.opts.knownHosts;
    const who = ep.label === 'node' ? this.nodeName : `${this.nodeName} (jump host ${displayAddress(ep.host, ep.port)})`;
    const knownTypes = await knownHosts.knownKeyTypes(ep.host, ep.port).catch((err: Error) => {
      throw new FinalError(new ConnectionError(this.nodeName, `Could not read the known_hosts files for node ${who}: ${err.message}.`, { cause: err }));
    });
    let refused: Error | undefined;
    let newKey: Buffer | undefined;
    let seen: HostKeySeen | undefined;
    const config: ConnectConfig = {
      ...(sock ? { sock: sock as ConnectConfig['sock'] } : { host: ep.host }),
      port: ep.port,
      username: ep.credentials.username,
      readyTimeout: timeoutMs,
      keepaliveInterval: 10_000,
      keepaliveCountMax: 3,
      algorithms: { serverHostKey: preferredHostKeyAlgorithms(knownTypes) as NonNullable<ConnectConfig['algorithms']>['serverHostKey'] },
      authHandler: makeAuthHandler(ep.credentials.methods) as ConnectConfig['authHandler'],
      hostVerifier: (key: Buffer, verify: (ok: boolean) => void) => {
        let presented: string;
        try {
          seen = { who: `node ${who}`, host: ep.host, port: ep.port, keyType: keyTypeOf(key), fingerprint: fingerprintSha256(key), file: knownHosts.file };
          presented = seen.fingerprint;
        } catch (err) {
          refused = new ConnectionError(this.nodeName, `Node ${who} presented a host key that cannot be parsed: ${(err as Error).message}.`);
          return verify(false);
        }
        // The inventory's pin is the operator's own word on this node's key: any other is refused, this one trusted.
        const pinned = ep.label === 'node' ? this.opts.pinnedFingerprint : undefined;
        const pinField = this.opts.pinField ?? 'nodes[].hostKeyFingerprint';
        if (pinned !== undefined && presented !== pinned) {
          const { message, hint } = describePinnedKeyMismatch(seen, pinned, pinField);
          refused = new RevuePiError(message, { code: 'HOST_KEY_PINNED', node: this.nodeName, hint });
          return verify(false);
        }
        knownHosts.check(ep.host, ep.port, key).then(
          (verdict) => {
            if (verdict.status === 'known') return verify(true);
            if (verdict.status === 'new' && pinned === undefined && this.opts.hostKeys === 'strict') {
              const { message, hint } = describeUnknownKeyRefusal(seen!, ep.label === 'node' ? pinField : undefined);
              refused = new RevuePiError(message, { code: 'HOST_KEY_UNKNOWN', node: this.nodeName, hint });
              return verify(false);
            }
            if (verdict.status === 'new') {
              newKey = key;
              return verify(true);
            }
            if (verdict.status === 'changed' && pinned !== undefined) return verify(true);
            if (verdict.status === 'revoked') {
              refused = new ConnectionError(
                this.nodeName,
                `The SSH host key ${presented} of node ${who} is marked @revoked in ${verdict.entry.file}. Refusing to connect.`,
                {
                  hint: 'A revoked key means the node is not to be trusted; re-key the node, or remove the @revoked line if it is wrong.',
                },
              );
              return verify(false);
            }
            const known = [...new Set(verdict.recorded.map((e) => fingerprintSha256(e.key)))].join(' or ');
            const addr = displayAddress(ep.host, ep.port);
            const where = ep.label === 'node' ? addr : `jump host ${addr}`;
            refused = new HostKeyMismatchError(this.nodeName, where, known, presented, verdict.recorded[0]!.file);
            verify(false);
          },
          (err: unknown) => {
            refused = new ConnectionError(this.nodeName, `Could not read the known_hosts files for node ${who}: ${(err as Error).message}.`, { cause: err });
            verify(false);
          },
        );
      },
    };
    const ssh = new NodeSSH();
    try {
      await ssh.connect(config as Parameters<NodeSSH['connect']>[0]);
    } catch (err) {
      ssh.connection?.end();
      if (refused) throw new FinalError(refused);
      if (isAuthFailure(err)) {
        const tried = ep.credentials.described.length
          ? ep.credentials.described.join(', ')
          : 'nothing (no key file, no ssh-agent at SSH_AUTH_SOCK, no password)';
        const target =
          ep.label === 'node'
            ? `node ${this.nodeName} at ${displayAddress(ep.host, ep.port)}`
            : `the jump host ${displayAddress(ep.host, ep.port)} for node ${this.nodeName}`;
        throw new FinalError(
          new ConnectionError(this.nodeName, `Could not log in to ${target} as ${ep.credentials.username}: the server refused every method tried (${tried}).`, {
            cause: err,
            hint: 'Check ssh.user, ssh.keyPath / ssh.useAgent / ssh.passwordEnv in the inventory, and that the public key is in ~/.ssh/authorized_keys on the node.',
          }),
        );
      }
      throw err;
    }
    if (newKey) {
      try {
        if ((await knownHosts.trust(ep.host, ep.port, newKey)) && seen) this.opts.onHostKeyTrusted?.(seen);
      } catch (err) {
        ssh.dispose();
        throw new FinalError(
          new ConnectionError(this.nodeName, `Could not record the host key of node ${who} in ${knownHosts.file}: ${(err as Error).message}.`, {
            cause: err,
            hint: 'Make that file writable, or point ssh.knownHostsFile in the inventory at a writable place.',
          }),
        );
      }
    }
    return ssh;
  }

  /** The live connection; a dropped one is reopened once, shared by every caller waiting for it. */
  private async client(): Promise<OpenConnection> {
    if (this.closing) throw new ConnectionError(this.nodeName, `The SSH connection to node ${this.nodeName} was closed.`);
    if (this.conn?.alive) return this.conn;
    if (!this.reopening) {
      this.dropConnection();
      this.reopening = this.open().finally(() => {
        this.reopening = undefined;
      });
    }
    await this.reopening;
    return this.conn!;
  }

  private dropConnection(): void {
    const c = this.conn;
    this.conn = undefined;
    if (!c) return;
    c.alive = false;
    c.ssh.dispose();
    c.bastion?.dispose();
  }

  private sudoMode(sudo: boolean | undefined): SudoMode {
    if (!sudo) return { kind: 'none' };
    if (this.sudoPassword === undefined) return { kind: 'nopassword' };
    return { kind: 'password', prompt: `[revue-pi sudo ${randomBytes(6).toString('hex')}]` };
  }

  async run(script: ShellScript, opts: RunOptions = {}): Promise<RunResult> {
    const sudo = this.sudoMode(opts.sudo);
    const timeoutSeconds = opts.timeoutMs === undefined ? undefined : opts.timeoutMs / 1000;
    const cmdOpts = { sudo, ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}) };
    let command: string;
    let stdin: string | undefined;
    if (sudo.kind !== 'password') {
      command = buildStdinScriptCommand(cmdOpts).text;
      stdin = stdinScript(script).text;
    } else {
      command = buildScriptCommand(script, cmdOpts).text;
      if (command.length > MAX_INLINE_SCRIPT_BASE64) {
        const path = await this.upload(Buffer.from(effectiveScript(script, sudo).text, 'utf8'));
        command = buildScriptFileCommand(path, cmdOpts).text;
      }
    }
    this.commands++;
    const raw = await this.channels.use(() => this.exec(command, sudo, opts.timeoutMs, stdin));
    const parsed = parseSudoStderr(raw.stderr, sudo.kind === 'password' ? sudo.prompt : undefined);
    const user = this.node.credentials.username;
    if (sudo.kind === 'password' && (parsed.prompts >= 2 || (raw.code !== 0 && parsed.incorrectPassword))) {
      throw new RevuePiError(`sudo on node ${this.nodeName} refused the password from ${this.sudoPasswordEnv} (ssh.sudoPasswordEnv).`, {
        code: 'SUDO_PASSWORD',
        node: this.nodeName,
        hint: `Set ${this.sudoPasswordEnv} to the password of user ${user} on ${this.nodeName}.`,
      });
    }
    if (sudo.kind === 'nopassword' && raw.code === 1 && parsed.passwordRequired) {
      throw new RevuePiError(`sudo on node ${this.nodeName} asks for a password: set ssh.sudoPasswordEnv in the inventory.`, {
        code: 'SUDO_PASSWORD',
        node: this.nodeName,
        hint: `Name an environment variable holding the sudo password of user ${user} in ssh.sudoPasswordEnv, or allow ${user} passwordless sudo on the node.`,
      });
    }
    if (sudo.kind !== 'none' && raw.code === 1 && parsed.notAllowed) {
      throw new RevuePiError(`User ${user} may not use sudo on node ${this.nodeName}: ${maskSecrets(parsed.stderr.trim(), this.secrets)}`, {
        code: 'SUDO_DENIED',
        node: this.nodeName,
        hint: `Add ${user} to the sudo group on the node, or set ssh.user to a user that may use sudo.`,
      });
    }
    return { code: raw.code, stdout: raw.stdout, stderr: maskSecrets(parsed.stderr, this.secrets) };
  }

  /**
   * Runs one command, retrying briefly when the server refuses a new channel while the connection is fine
   * (sshd frees a finished session a moment after its channel closes, so a full MaxSessions can lag).
   */
  private async exec(command: string, sudo: SudoMode, timeoutMs: number | undefined, stdin?: string): Promise<RunResult> {
    for (let attempt = 1; ; attempt++) {
      const conn = await this.client();
      try {
        return await this.execOnce(conn.client, command, sudo, timeoutMs, stdin);
      } catch (err) {
        const refusedChannel = err instanceof ChannelOpenError && conn.alive && attempt < 10;
        if (!refusedChannel) throw err instanceof ChannelOpenError ? err.error : err;
        await sleep(backoffDelay(attempt, 50, 500));
      }
    }
  }

  /**
   * Runs one command on a fresh channel. `stdin` (the script, for `sh -s`) is written and stdin closed at once.
   * Under `sudo -S` the password is written only when sudo's prompt marker shows on stderr (so nothing is written
   * when sudo does not ask), and stdin is closed right after.
   */
  private execOnce(client: Client, command: string, sudo: SudoMode, timeoutMs: number | undefined, stdin?: string): Promise<RunResult> {
    return new Promise<RunResult>((resolve, reject) => {
      client.exec(command, (openErr, channel) => {
        if (openErr) {
          const error = new ConnectionError(this.nodeName, `Could not start a command on node ${this.nodeName}: ${openErr.message}.`, { cause: openErr });
          return reject((openErr as { reason?: unknown }).reason !== undefined ? new ChannelOpenError(error) : error);
        }
        // Listeners go on synchronously: output and the exit status can arrive in the same packet batch as the open.
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        let errText = '';
        let prompts = 0;
        let code: number | undefined;
        let timedOut = false;
        if (sudo.kind !== 'password') channel.end(stdin);
        channel.on('data', (b: Buffer) => out.push(b));
        channel.stderr.on('data', (b: Buffer) => {
          err.push(b);
          if (sudo.kind !== 'password' || prompts >= 2) return;
          errText += b.toString('latin1');
          const seen = errText.split(sudo.prompt).length - 1;
          if (seen > prompts) {
            prompts = seen;
            if (prompts === 1) channel.end(`${this.sudoPassword}\n`);
          }
        });
        const onExit = (c: number | null | undefined, signal?: string) => {
          if (typeof c === 'number') code = c;
          else if (signal) code = exitCodeForSignal(signal);
        };
        channel.on('exit', onExit);
        const timer =
          timeoutMs === undefined
            ? undefined
            : setTimeout(() => {
                timedOut = true;
                try {
                  channel.signal('KILL');
                } catch {
                  /* the server may not support signals; the remote `timeout` and closing the channel still apply */
                }
                channel.close();
              }, timeoutMs);
        channel.on('close', (c?: number | null, signal?: string) => {
          if (timer) clearTimeout(timer);
          if (code === undefined) onExit(c, signal);
          const stdout = Buffer.concat(out).toString('utf8');
          const stderr = Buffer.concat(err).toString('utf8');
          if (timedOut) return resolve({ code: TIMEOUT_EXIT, stdout, stderr });
          if (code === undefined) {
            return reject(
              new ConnectionError(this.nodeName, `The SSH session to node ${this.nodeName} broke while a command was running.`, {
                hint: 'Check the node and its network; run again.',
              }),
            );
          }
          resolve({ code, stdout, stderr });
        });
      });
    });
  }

  private async sftp(): Promise<SFTPWrapper> {
    const conn = await this.client();
    conn.sftp ??= new Promise<SFTPWrapper>((resolve, reject) => {
      conn.client.sftp((err, sftp) => (err ? reject(err) : resolve(sftp)));
    });
    conn.sftp.catch(() => {
      conn.sftp = undefined;
    });
    return conn.sftp;
  }

  /** Uploads bytes to a fresh file (mode 0600) in the login user's home; returns its absolute path. */
  private async upload(content: Buffer): Promise<string> {
    const conn = await this.client();
    const sftp = await this.sftp().catch((err: Error) => {
      throw new ConnectionError(this.nodeName, `Could not open an SFTP session to node ${this.nodeName}: ${err.message}.`, {
        cause: err,
        hint: 'The SSH server must allow the sftp subsystem (Subsystem sftp in sshd_config).',
      });
    });
    conn.home ??= new Promise<string>((resolve, reject) => sftp.realpath('.', (err, p) => (err ? reject(err) : resolve(p))));
    const home = await conn.home;
    const path = `${home.replace(/\/$/, '')}/.revue-pi-upload-${randomBytes(8).toString('hex')}`;
    await new Promise<void>((resolve, reject) => {
      sftp.open(path, 'wx', { mode: 0o600 }, (err, handle) => {
        if (err) return reject(err);
        const finish = (e?: Error | null) => sftp.close(handle, (e2) => (e || e2 ? reject(e ?? e2) : resolve()));
        if (content.length === 0) return finish();
        writeAll(sftp, handle, content).then(() => finish(), finish);
      });
    }).catch((err: Error) => {
      throw new RemoteCommandError(
        this.nodeName,
        `Uploading a file to ${home}`,
        `sftp put ${path}`,
        null,
        err.message,
        'Check free space in the home folder of the SSH user on the node.',
      );
    });
    return path;
  }

  async writeFile(path: string, content: string | Uint8Array, opts: WriteFileOptions = {}): Promise<void> {
    const result = await this.writeFilesThenRun([{ path, content, ...(opts.mode !== undefined ? { mode: opts.mode } : {}) }], sh``, {
      sudo: opts.sudo ?? false,
    });
    if (result.code !== 0) {
      throw new RemoteCommandError(
        this.nodeName,
        `Writing ${path}`,
        `install (upload) → ${path}`,
        result.code,
        result.stderr || result.stdout,
        opts.sudo ? undefined : "Writing outside the user's own files usually needs sudo.",
      );
    }
  }

  async writeFilesThenRun(files: FileToWrite[], script: ShellScript, opts: RunOptions = {}): Promise<RunResult> {
    const bytes = files.map((f) => (typeof f.content === 'string' ? Buffer.from(f.content, 'utf8') : Buffer.from(f.content)));
    // Without a sudo password the script goes on stdin, never on a command line: the files can travel in it.
    if (this.sudoMode(opts.sudo).kind !== 'password' && bytes.reduce((n, b) => n + b.length, 0) <= MAX_INLINE_FILES_BYTES) {
      const inline = files.map((f, i) => ({ content: bytes[i]!, target: f.path, mode: f.mode ?? 0o644, token: randomBytes(6).toString('hex') }));
      return this.run(files.length > 0 ? sh`${buildInlineFilesScript(inline)}${script}` : script, opts);
    }
    const uploads = await Promise.all(
      files.map(async (f, i) => ({
        uploaded: await this.upload(bytes[i]!),
        target: f.path,
        mode: f.mode ?? 0o644,
        token: randomBytes(6).toString('hex'),
      })),
    );
    return this.run(files.length > 0 ? sh`${buildInstallFilesScript(uploads)}${script}` : script, opts);
  }

  async readFile(path: string, opts: { sudo?: boolean } = {}): Promise<Buffer | undefined> {
    const result = await this.run(buildReadFileScript(path), { sudo: opts.sudo ?? false });
    if (result.code === NO_SUCH_FILE_EXIT && result.stderr.includes(NO_SUCH_FILE_MESSAGE)) return undefined;
    if (result.code !== 0) throw new RemoteCommandError(this.nodeName, `Reading ${path}`, `base64 ${path}`, result.code, result.stderr || result.stdout);
    return Buffer.from(result.stdout, 'base64');
  }

  /**
   * Drops the connection and polls until SSH answers again: short attempts (at most 5 s each, within what is left),
   * backoff from 250 ms capped at 1 s. A changed host key or refused login ends the wait at once.
   */
  async reconnect(timeoutMs: number, opts: { waitForDropMs?: number } = {}): Promise<void> {
    const open = this.conn;
    if (open?.alive && opts.waitForDropMs) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([open.closed, new Promise<void>((resolve) => (timer = setTimeout(resolve, opts.waitForDropMs)))]);
      clearTimeout(timer);
    }
    this.dropConnection();
    // Commands issued meanwhile wait for this instead of dialling on their own.
    const polling = this.pollUntilUp(timeoutMs);
    const shared = polling.finally(() => {
      if (this.reopening === shared) this.reopening = undefined;
    });
    shared.catch(() => undefined);
    this.reopening = shared;
    await polling;
  }

  private async pollUntilUp(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let attempt = 0;
    let last: unknown;
    let lastTimeout = this.opts.connectTimeoutMs;
    while (Date.now() < deadline) {
      attempt++;
      lastTimeout = Math.max(200, Math.min(this.opts.connectTimeoutMs, 5000, deadline - Date.now()));
      try {
        this.conn = await this.dial(lastTimeout);
        return;
      } catch (err) {
        if (err instanceof FinalError) throw err.error;
        last = err;
      }
      // Dialling a node that is down is cheap (refused, or the dial timeout): poll often enough to catch it early.
      const pause = Math.min(backoffDelay(attempt, 250, 500), deadline - Date.now());
      if (pause > 0) await sleep(pause);
    }
    const cause = last === undefined ? 'no attempt fitted in the time given' : describeDialError(last, lastTimeout);
    throw new ConnectionError(
      this.nodeName,
      `Node ${this.nodeName} at ${this.address} did not answer SSH again within ${Math.round(timeoutMs / 100) / 10} s (${plural(attempt, 'attempt')}; last: ${cause}).`,
      { cause: last, hint: "Check the node's power and network; raise pi.rebootTimeoutSeconds in the inventory for slow boots." },
    );
  }

  async close(): Promise<void> {
    this.closing = true;
    this.dropConnection();
  }
}

/** Writes in 32 KiB chunks with up to 16 requests in flight (SFTP writes carry offsets, so order does not matter). */
async function writeAll(sftp: SFTPWrapper, handle: Buffer, data: Buffer): Promise<void> {
  const chunk = 32 * 1024;
  let next = 0;
  const worker = async () => {
    while (next < data.length) {
      const pos = next;
      next += chunk;
      const len = Math.min(chunk, data.length - pos);
      await new Promise<void>((resolve, reject) => sftp.write(handle, data, pos, len, pos, (err) => (err ? reject(err) : resolve())));
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
}

/** Shell convention for a command killed by a signal: 128 + its number (ssh2 names it `SIGKILL` etc.). */
function exitCodeForSignal(signal: string): number {
  const name = signal.startsWith('SIG') ? signal : `SIG${signal}`;
  return 128 + ((osConstants.signals as Record<string, number>)[name] ?? 0);
}

function forwardOut(bastion: Client, host: string, port: number, timeoutMs: number): Promise<NodeJS.ReadableStream> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      const e: SshError = new Error('the jump host did not open the forwarded connection in time');
      e.level = 'client-timeout';
      reject(e);
    }, timeoutMs);
    bastion.forwardOut('127.0.0.1', 0, host, port, (err, stream) => {
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(stream);
    });
  });
}

/**
 * Opens the one SSH connection a node's steps share. Secrets come from the environment variables named
 * in the settings; a named but unset variable fails here, before any connection.
 */
export async function connectNode(settings: NodeSshSettings, opts: ConnectNodeOptions): Promise<SshTransport> {
  const env = opts.env ?? process.env;
  const home = env.HOME || homedir();
  const node = opts.nodeName;
  const sudoPassword = secretFromEnv(env, settings.sudoPasswordEnv, 'ssh.sudoPasswordEnv', node);
  const credentials = await buildCredentials(settings, 'ssh.keyPath', node, env, home, true);
  if (credentials.methods.length === 0) {
    throw new RevuePiError(
      `There is no way to log in to node ${node}: no ssh.keyPath, no usable key in ~/.ssh, ${settings.useAgent ? 'SSH_AUTH_SOCK is not set' : 'ssh.useAgent is off'}, and no ssh.passwordEnv.`,
      {
        code: 'SSH_AUTH_CONFIG',
        node,
        hint: "Set ssh.keyPath (or start ssh-agent and ssh-add your key), or name the password's environment variable in ssh.passwordEnv.",
      },
    );
  }
  const secrets: string[] = [];
  for (const m of credentials.methods) if (m.type === 'password') secrets.push(m.password);
  const passphrase = settings.keyPassphraseEnv ? env[settings.keyPassphraseEnv] : undefined;
  if (passphrase) secrets.push(passphrase);
  if (sudoPassword !== undefined) secrets.push(sudoPassword);
  let jump: Endpoint | undefined;
  if (settings.jump) {
    const j = settings.jump;
    // The jump host logs in with its own key when the inventory or the ssh config names one, else with the node's.
    const ownKey = j.keyPath !== undefined || j.identityFiles !== undefined;
    const jumpCreds = await buildCredentials(
      {
        ...settings,
        user: j.user ?? settings.user,
        ...(ownKey ? { keyPath: j.keyPath, identityFiles: j.identityFiles, identitiesOnly: j.identitiesOnly } : {}),
      },
      j.keyPath ? 'ssh.jump.keyPath' : 'ssh.keyPath',
      node,
      env,
      home,
      false,
    );
    jump = { label: 'jump', host: j.host, port: j.port, credentials: jumpCreds, ...(opts.jumpKnownHosts ? { knownHosts: opts.jumpKnownHosts } : {}) };
  }
  const transport = new SshTransport(
    {
      nodeName: node,
      knownHosts: opts.knownHosts,
      connectTimeoutMs: opts.connectTimeoutMs ?? settings.connectTimeoutSeconds * 1000,
      retries: opts.retries ?? settings.connectRetries,
      retryDelayMs: opts.retryDelayMs ?? 500,
      hostKeys: opts.hostKeys ?? settings.hostKeys ?? 'accept-new',
      ...(opts.pinnedFingerprint !== undefined ? { pinnedFingerprint: opts.pinnedFingerprint } : {}),
      ...(opts.pinField !== undefined ? { pinField: opts.pinField } : {}),
      ...(opts.onHostKeyTrusted ? { onHostKeyTrusted: opts.onHostKeyTrusted } : {}),
    },
    { label: 'node', host: settings.host, port: settings.port, credentials },
    jump,
    sudoPassword,
    settings.sudoPasswordEnv,
    secrets,
  );
  await transport.open();
  return transport;
}
