import ora from 'ora';
import ssh2 from 'ssh2';
import type { ConnectConfig } from 'ssh2';
import { InventoryError, RevuePiError } from '../../core/errors.js';
import { SSH_DEFAULTS, sshDefaultsSchema, type NodeSshSettings } from '../../core/inventory/schema.js';
import { parseProbeOutput } from '../../core/remote/probe.js';
import { fingerprintSha256, type KnownHosts, keyTypeOf, preferredHostKeyAlgorithms } from '../../core/remote/known-hosts.js';
import { connectNode, describeDialError } from '../../core/remote/ssh.js';
import { sh } from '../../core/remote/shell.js';
import { buildFactsScript, parseFacts, type NodeFacts } from '../../provision/facts.js';
import { isPromptExit, type Prompts } from '../ui/prompts.js';
import { colorEnabled, spinnersWithColor } from '../ui/terminal.js';
import type { InitNode, SshLogin } from './answers.js';
import type { InitIo } from './io.js';
import { describeFacts, newHostKeyNotice, parseSudoCheck } from './text.js';
import { formatNodeAddress } from './validate.js';

/**
 * The wizard's look at one node as it is entered: its host key (shown and trusted on the spot when new), a login
 * the way `up` will log in, the facts script and whether sudo asks for a password — behind a spinner.
 */

const SSH_PORT = 22;
const PROBE_TIMEOUT_MS = 10_000;

/**
 * Reads the host key a server presents, refusing the connection right after (like ssh-keyscan), offering
 * the host key algorithms in the order the real connection will (connectNode), so it gets the same key.
 */
export function scanHostKey(host: string, port: number, algorithms: string[], timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    let key: Buffer | undefined;
    let settled = false;
    const settle = (error?: unknown) => {
      if (settled) return;
      settled = true;
      client.end();
      if (key) resolve(key);
      else reject(error ?? new Error('the server closed the connection before showing its host key'));
    };
    client.on('error', settle);
    client.on('close', () => settle());
    client.on('ready', () => settle());
    client.connect({
      host,
      port,
      username: 'revue-pi-keyscan',
      readyTimeout: timeoutMs,
      algorithms: { serverHostKey: algorithms as NonNullable<ConnectConfig['algorithms']>['serverHostKey'] },
      hostVerifier: (presented: Buffer) => {
        key = Buffer.from(presented);
        return false;
      },
    });
  });
}

export type Probe = { ok: true; facts: NodeFacts; sudo: ReturnType<typeof parseSudoCheck> } | { ok: false };

/** What the probe borrows from the wizard. */
export interface ProbeContext {
  io: InitIo;
  prompts: Prompts;
  knownHosts: KnownHosts;
  /** What to say when Ctrl-C ends the process mid-probe (outside a prompt). */
  stoppedText: () => string;
  /** Called with `pi-1 (192.168.1.101)` once a new host key is trusted and recorded. */
  onTrusted: (label: string) => void;
}

export async function probeNode(node: InitNode, user: string, login: SshLogin, ctx: ProbeContext): Promise<Probe> {
  const { io, prompts, knownHosts } = ctx;
  const port = node.port ?? SSH_PORT;
  const where = `${node.name} (${formatNodeAddress(node)})`;
  const stream = io.spinnerStream ?? process.stderr;
  const spinner = spinnersWithColor(
    ora,
    colorEnabled(stream as { isTTY?: boolean }, io.env),
  )({ text: `Connecting to ${where}…`, stream, discardStdin: false }).start();
  // Ctrl-C outside a prompt is a real SIGINT: say so, then let it end the process as it would have.
  const interrupted = () => {
    process.off('SIGINT', interrupted);
    spinner.stop();
    io.err(ctx.stoppedText());
    process.kill(process.pid, 'SIGINT');
  };
  process.on('SIGINT', interrupted);
  let transport: Awaited<ReturnType<typeof connectNode>> | undefined;
  try {
    const algorithms = preferredHostKeyAlgorithms(await knownHosts.knownKeyTypes(node.host, port));
    let key: Buffer;
    try {
      key = await scanHostKey(node.host, port, algorithms, PROBE_TIMEOUT_MS);
    } catch (error) {
      spinner.fail(`${where} could not be reached: ${describeDialError(error, PROBE_TIMEOUT_MS)}.`);
      return { ok: false };
    }
    const verdict = await knownHosts.check(node.host, port, key);
    if (verdict.status === 'new') {
      spinner.stop();
      const fingerprint = fingerprintSha256(key);
      io.out(`${newHostKeyNotice(node.name, node.host, port, keyTypeOf(key), fingerprint)}\n`);
      const trust = await prompts.confirm({ message: 'Trust it?', default: false });
      if (!trust) {
        io.out(`✖ ${where}: its host key ${fingerprint} was not trusted, so revue-pi did not log in.\n`);
        return { ok: false };
      }
      await knownHosts.trust(node.host, port, key);
      ctx.onTrusted(`${node.name} (${formatNodeAddress(node)})`);
      spinner.start(`Logging in to ${where}…`);
    }
    // A changed or revoked key goes on to connectNode, which refuses it with the full explanation.
    transport = await connectNode(sshSettings(node, user, login), {
      nodeName: node.name,
      knownHosts,
      retries: 0,
      connectTimeoutMs: PROBE_TIMEOUT_MS,
      env: io.env,
    });
    spinner.text = `Probing ${where}…`;
    // The facts the wizard shows need no root; whether sudo asks for a password is checked on its own.
    const probed = await transport.run(buildFactsScript());
    if (probed.code !== 0)
      throw new RevuePiError(`Probing ${node.name} failed (exit ${probed.code}): ${probed.stderr.trim() || probed.stdout.trim()}`, { code: 'PROBE' });
    const facts = parseFacts(parseProbeOutput(probed.stdout));
    const sudoCheck = await transport.run(sh`LC_ALL=C sudo -n true 2>&1`);
    spinner.succeed(`${where}: ${describeFacts(facts)}`);
    return { ok: true, facts, sudo: parseSudoCheck(sudoCheck.code, sudoCheck.stdout) };
  } catch (error) {
    if (isPromptExit(error)) throw error;
    spinner.fail(`${where}: ${failureText(error)}`);
    return { ok: false };
  } finally {
    process.off('SIGINT', interrupted);
    if (spinner.isSpinning) spinner.stop();
    await transport?.close().catch(() => undefined);
  }
}

function sshSettings(node: InitNode, user: string, login: SshLogin): NodeSshSettings {
  const defaults = sshDefaultsSchema.parse({
    user: node.user ?? user,
    useAgent: login.kind === 'agent',
    ...(login.kind === 'key' ? { keyPath: login.keyPath, ...(login.passphraseEnv ? { keyPassphraseEnv: login.passphraseEnv } : {}) } : {}),
    ...(login.kind === 'password' ? { passwordEnv: login.passwordEnv } : {}),
    connectRetries: 0,
  });
  const { jump: _jump, configFile: _configFile, ...rest } = defaults;
  return { ...rest, user: node.user ?? user, useAgent: login.kind === 'agent', host: node.host, port: node.port ?? SSH_DEFAULTS.port };
}

/** The error as the sentence to show; hints only where they say what to do here (a changed key, an unusable key file). */
function failureText(error: unknown): string {
  if (error instanceof InventoryError) return error.message;
  if (error instanceof RevuePiError) {
    const useful = ['HOST_KEY_CHANGED', 'SSH_KEY', 'SECRET_MISSING'].includes(error.code);
    return useful && error.hint ? `${error.message} ${error.hint}` : error.message;
  }
  return error instanceof Error ? error.message : String(error);
}
