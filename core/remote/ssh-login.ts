import { NodeSSH } from 'node-ssh';
import type { ConnectConfig } from 'ssh2';
import { ConnectionError, HostKeyMismatchError, RevuePiError } from '../errors.js';
import { makeAuthHandler, type Endpoint } from './ssh-credentials.js';
import { describePinnedKeyMismatch, describeUnknownKeyRefusal, type HostKeySeen } from './host-key-text.js';
import { displayAddress, fingerprintSha256, keyTypeOf, type KnownHosts, preferredHostKeyAlgorithms } from './known-hosts.js';

/** Logging in to one SSH server (node-ssh's connect), with the host key checked against known_hosts and the pin. */

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

/** What a login needs from the transport: the node's name for messages and the host key policy. */
export type LoginContext = Required<Pick<ConnectNodeOptions, 'nodeName' | 'knownHosts' | 'connectTimeoutMs' | 'retries' | 'retryDelayMs' | 'hostKeys'>> &
  Pick<ConnectNodeOptions, 'pinnedFingerprint' | 'pinField' | 'onHostKeyTrusted'>;

/** Delay before attempt `attempt + 1`: base·2^(attempt−1), capped. */
export function backoffDelay(attempt: number, baseMs: number, capMs: number): number {
  return Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1));
}

export interface SshError extends Error {
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

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A failure that retrying cannot fix: wrong credentials, changed host key, missing secret. */
export class FinalError extends Error {
  constructor(readonly error: Error) {
    super(error.message);
  }
}

/** Opens and authenticates one SSH connection, checking and recording the host key. */
export async function login(ctx: LoginContext, ep: Endpoint, timeoutMs: number, sock: NodeJS.ReadableStream | undefined): Promise<NodeSSH> {
  const knownHosts = ep.knownHosts ?? ctx.knownHosts;
  const who = ep.label === 'node' ? ctx.nodeName : `${ctx.nodeName} (jump host ${displayAddress(ep.host, ep.port)})`;
  const knownTypes = await knownHosts.knownKeyTypes(ep.host, ep.port).catch((err: Error) => {
    throw new FinalError(new ConnectionError(ctx.nodeName, `Could not read the known_hosts files for node ${who}: ${err.message}.`, { cause: err }));
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
        refused = new ConnectionError(ctx.nodeName, `Node ${who} presented a host key that cannot be parsed: ${(err as Error).message}.`);
        return verify(false);
      }
      // The inventory's pin is the operator's own word on this node's key: any other is refused, this one trusted.
      const pinned = ep.label === 'node' ? ctx.pinnedFingerprint : undefined;
      const pinField = ctx.pinField ?? 'nodes[].hostKeyFingerprint';
      if (pinned !== undefined && presented !== pinned) {
        const { message, hint } = describePinnedKeyMismatch(seen, pinned, pinField);
        refused = new RevuePiError(message, { code: 'HOST_KEY_PINNED', node: ctx.nodeName, hint });
        return verify(false);
      }
      knownHosts.check(ep.host, ep.port, key).then(
        (verdict) => {
          if (verdict.status === 'known') return verify(true);
          if (verdict.status === 'new' && pinned === undefined && ctx.hostKeys === 'strict') {
            const { message, hint } = describeUnknownKeyRefusal(seen!, ep.label === 'node' ? pinField : undefined);
            refused = new RevuePiError(message, { code: 'HOST_KEY_UNKNOWN', node: ctx.nodeName, hint });
            return verify(false);
          }
          if (verdict.status === 'new') {
            newKey = key;
            return verify(true);
          }
          if (verdict.status === 'changed' && pinned !== undefined) return verify(true);
          if (verdict.status === 'revoked') {
            refused = new ConnectionError(
              ctx.nodeName,
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
          refused = new HostKeyMismatchError(ctx.nodeName, where, known, presented, verdict.recorded[0]!.file);
          verify(false);
        },
        (err: unknown) => {
          refused = new ConnectionError(ctx.nodeName, `Could not read the known_hosts files for node ${who}: ${(err as Error).message}.`, { cause: err });
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
      const tried = ep.credentials.described.length ? ep.credentials.described.join(', ') : 'nothing (no key file, no ssh-agent at SSH_AUTH_SOCK, no password)';
      const target =
        ep.label === 'node'
          ? `node ${ctx.nodeName} at ${displayAddress(ep.host, ep.port)}`
          : `the jump host ${displayAddress(ep.host, ep.port)} for node ${ctx.nodeName}`;
      throw new FinalError(
        new ConnectionError(ctx.nodeName, `Could not log in to ${target} as ${ep.credentials.username}: the server refused every method tried (${tried}).`, {
          cause: err,
          hint: 'Check ssh.user, ssh.keyPath / ssh.useAgent / ssh.passwordEnv in the inventory, and that the public key is in ~/.ssh/authorized_keys on the node.',
        }),
      );
    }
    throw err;
  }
  if (newKey) {
    try {
      if ((await knownHosts.trust(ep.host, ep.port, newKey)) && seen) ctx.onHostKeyTrusted?.(seen);
    } catch (err) {
      ssh.dispose();
      throw new FinalError(
        new ConnectionError(ctx.nodeName, `Could not record the host key of node ${who} in ${knownHosts.file}: ${(err as Error).message}.`, {
          cause: err,
          hint: 'Make that file writable, or point ssh.knownHostsFile in the inventory at a writable place.',
        }),
      );
    }
  }
  return ssh;
}
