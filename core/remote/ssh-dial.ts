import type { NodeSSH } from 'node-ssh';
import type { Client, SFTPWrapper } from 'ssh2';
import { ConnectionError } from '../errors.js';
import { displayAddress } from './known-hosts.js';
import type { Endpoint } from './ssh-credentials.js';
import { describeDialError, FinalError, login, type LoginContext, type SshError } from './ssh-login.js';

/** One dial attempt: straight to the node, or through a jump host (ProxyJump) over a forwarded channel. */

export interface OpenConnection {
  ssh: NodeSSH;
  client: Client;
  bastion?: NodeSSH;
  sftp?: Promise<SFTPWrapper>;
  home?: Promise<string>;
  alive: boolean;
  /** Settles when the connection is closed, by either end. */
  closed: Promise<void>;
}

/** node-ssh's forwardOut has no timeout of its own: a jump host that never answers must not hang the dial. */
function forwardOut(bastion: NodeSSH, host: string, port: number, timeoutMs: number): Promise<NodeJS.ReadableStream> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      const e: SshError = new Error('the jump host did not open the forwarded connection in time');
      e.level = 'client-timeout';
      reject(e);
    }, timeoutMs);
  });
  return Promise.race([bastion.forwardOut('127.0.0.1', 0, host, port), timeout]).finally(() => clearTimeout(timer));
}

/** One attempt: the bastion first when there is one, then the node over a forwarded channel. */
export async function dial(ctx: LoginContext, node: Endpoint, jump: Endpoint | undefined, timeoutMs: number): Promise<OpenConnection> {
  let bastion: NodeSSH | undefined;
  let sock: NodeJS.ReadableStream | undefined;
  if (jump) {
    bastion = await login(ctx, jump, timeoutMs, undefined).catch((err) => {
      if (!(err instanceof FinalError)) (err as { stage?: string }).stage = 'jump';
      throw err;
    });
    try {
      sock = await forwardOut(bastion, node.host, node.port, timeoutMs);
    } catch (err) {
      bastion.dispose();
      throw err;
    }
  }
  let ssh: NodeSSH;
  try {
    ssh = await login(ctx, node, timeoutMs, sock);
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
  return conn;
}

/** The dial failure as a sentence naming the node or its jump host, and what to check. */
export function unreachable(ctx: LoginContext, node: Endpoint, jump: Endpoint | undefined, err: unknown, when: string): ConnectionError {
  const e = err as { stage?: string } | undefined;
  const cause = describeDialError(err, ctx.connectTimeoutMs);
  if (jump && e?.stage === 'jump') {
    return new ConnectionError(
      ctx.nodeName,
      `Could not reach the jump host ${displayAddress(jump.host, jump.port)} for node ${ctx.nodeName} ${when}: ${cause}.`,
      { cause: err, hint: 'Check ssh.jump.host and ssh.jump.port in the inventory, and that SSH is enabled on the jump host.' },
    );
  }
  const via = jump ? ` through the jump host ${displayAddress(jump.host, jump.port)}` : '';
  return new ConnectionError(ctx.nodeName, `Could not reach node ${ctx.nodeName} at ${displayAddress(node.host, node.port)}${via} ${when}: ${cause}.`, {
    cause: err,
    hint: `Check nodes[].host and ssh.port for ${ctx.nodeName} in the inventory, that the node is powered on, and that SSH is enabled on it.`,
  });
}
