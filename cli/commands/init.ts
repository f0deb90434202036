import { existsSync, readFileSync, readdirSync, renameSync, statSync, unlinkSync, writeFileSync, accessSync, constants as fsConstants } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ora from 'ora';
import { colorEnabled, spinnersWithColor } from '../ui/terminal.js';
import ssh2 from 'ssh2';
import type { ConnectConfig } from 'ssh2';
import { InventoryError, RevuePiError } from '../../core/errors.js';
import type { InitAnswers, InitNode, NodeRole, SshLogin, WorkloadChoice } from '../init/answers.js';
import { renderInventoryYaml } from '../init/render.js';
import {
  describeProgress,
  emptyProgress,
  forgetProgress,
  hasAnswers,
  progressFile,
  readProgress,
  saveProgress,
  stoppedText,
  type InitProgress,
} from '../init/progress.js';
import { describeFacts, factWarnings, newHostKeyNotice, nextSteps, parseSudoCheck } from '../init/text.js';
import {
  clusterNameProblem,
  domainProblem,
  envNameProblem,
  fixedAddresses,
  formatNodeAddress,
  hostProblem,
  k3sVersionProblem,
  nodeNameProblem,
  poolProblem,
  splitNodeAddress,
  suggestPool,
  userProblem,
} from '../init/validate.js';
import { parseInventory } from '../../core/inventory/parse.js';
import { DEFAULT_K3S_VERSION, SSH_DEFAULTS, sshDefaultsSchema, type NodeSshSettings } from '../../core/inventory/schema.js';
import { buildFactsScript, parseFacts, type NodeFacts } from '../../provision/facts.js';
import { parseProbeOutput } from '../../core/remote/probe.js';
import { fingerprintSha256, KnownHosts, keyTypeOf, preferredHostKeyAlgorithms } from '../../core/remote/known-hosts.js';
import { connectNode, describeDialError } from '../../core/remote/ssh.js';
import { sh } from '../../core/remote/shell.js';
import { isPromptExit, terminalPrompts, type Prompts } from '../ui/prompts.js';
import { packageRoot } from '../../workloads/render.js';

/**
 * `revue-pi init`: the interactive wizard that writes a commented inventory.yaml, probing each node as it
 * is entered; `init --defaults` copies the packaged inventory.example.yaml instead. The answers become text
 * in the pure renderInventoryYaml (cli/init/render.ts); this file does the talking, the probing and
 * the one write at the very end (temp file + rename), so Ctrl-C anywhere leaves no file behind.
 */

export interface InitCommandOptions {
  /** The inventory file to write. */
  output: string;
  /** Write the commented example without asking anything. */
  defaults?: boolean;
  /** Replace an existing file without asking. */
  force?: boolean;
}

export interface InitIo {
  out: (text: string) => void;
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
  /** Whether questions can be asked (stdin and stdout are a terminal). */
  interactive: boolean;
  /** Where the spinner draws; default process.stderr. */
  spinnerStream?: NodeJS.WriteStream;
}

const EXIT_OK = 0;
const EXIT_FAILED = 1;
const EXIT_BAD_INPUT = 2;
/** As a shell reports a command stopped by Ctrl-C (128 + SIGINT). */
const EXIT_INTERRUPTED = 130;

const SSH_PORT = 22;
const PROBE_TIMEOUT_MS = 10_000;

const defaultIo = (): InitIo => ({
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  env: process.env,
  interactive: Boolean(process.stdin.isTTY && process.stdout.isTTY),
});

export async function runInitCommand(opts: InitCommandOptions, deps: { io?: InitIo; prompts?: Prompts } = {}): Promise<number> {
  const io = deps.io ?? defaultIo();
  try {
    const problem = outputProblem(opts.output);
    if (problem) {
      io.err(`revue-pi init: ${problem}\nNothing was written.\n`);
      return EXIT_BAD_INPUT;
    }
    if (opts.defaults) return writeExample(opts, io);
    if (!io.interactive) {
      io.err(
        'revue-pi init asks its questions on a terminal, and this is not one (stdin or stdout is redirected).\n' +
          '  Write the inventory by hand instead: `revue-pi init --defaults` writes a commented example to edit,\n' +
          '  then run `revue-pi plan -i inventory.yaml` and `revue-pi up -i inventory.yaml`.\n',
      );
      return EXIT_BAD_INPUT;
    }
    return await new Wizard(opts, io, deps.prompts ?? terminalPrompts).run();
  } catch (error) {
    if (isPromptExit(error)) {
      io.err('\nStopped: nothing was written.\n');
      return EXIT_INTERRUPTED;
    }
    if (error instanceof RevuePiError) {
      io.err(`revue-pi init: ${error.message}\n${error.hint ? `  ${error.hint}\n` : ''}Nothing was written.\n`);
      return EXIT_FAILED;
    }
    throw error;
  }
}

/** Why the output file cannot be written (missing or read-only folder, a folder in its place), checked before any question. */
function outputProblem(output: string): string | undefined {
  const target = path.resolve(output);
  const dir = path.dirname(target);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return `the folder ${dir} for ${output} does not exist — create it, or pass another file with -o.`;
  try {
    accessSync(dir, fsConstants.W_OK);
  } catch {
    return `the folder ${dir} is not writable — pass a file in a folder you can write to with -o.`;
  }
  if (existsSync(target) && statSync(target).isDirectory())
    return `${output} is a folder — pass a file name with -o, e.g. ${path.join(output, 'inventory.yaml')}.`;
  return undefined;
}

/** `init --defaults`: the packaged, commented inventory.example.yaml, byte for byte. */
function writeExample(opts: InitCommandOptions, io: InitIo): number {
  const target = path.resolve(opts.output);
  if (existsSync(target) && !opts.force) {
    io.err(`revue-pi init: ${opts.output} already exists; nothing was written. Pass --force to replace it with the commented example.\n`);
    return EXIT_BAD_INPUT;
  }
  const example = readFileSync(path.join(packageRoot(), 'inventory.example.yaml'));
  writeAtomically(target, example);
  io.out(
    `Wrote ${opts.output}, the commented example. Change the cluster name, the nodes and the MetalLB pool, then:\n` +
      `  npx revue-pi plan -i ${opts.output}\n  npx revue-pi up -i ${opts.output}\n`,
  );
  return EXIT_OK;
}

/**
 * Writes the whole file to a temp file beside the target, then renames it over the target: the target is
 * either untouched or complete. A SIGINT arriving meanwhile is held until both are done (the write is
 * synchronous, and with a listener present Node delivers the signal to it after this returns).
 */
function writeAtomically(target: string, content: string | Buffer): void {
  const temp = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.tmp`);
  const hold = () => undefined;
  process.on('SIGINT', hold);
  try {
    writeFileSync(temp, content, { mode: 0o644, flag: 'wx' });
    renameSync(temp, target);
  } catch (error) {
    try {
      unlinkSync(temp);
    } catch {
      // the temp file was never created
    }
    throw new RevuePiError(`Could not write ${target}: ${(error as Error).message}.`, { code: 'WRITE', cause: error });
  } finally {
    process.off('SIGINT', hold);
  }
}

/** A private key in ~/.ssh with its .pub beside it. */
interface FoundKey {
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

function keyFileState(file: string): 'ok' | 'encrypted' | 'invalid' {
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
function shownPath(file: string, home: string): string {
  const abs = path.resolve(file);
  const rel = path.relative(home, abs);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel) ? `~/${rel}` : abs;
}

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

type Probe = { ok: true; facts: NodeFacts; sudo: ReturnType<typeof parseSudoCheck> } | { ok: false };

class Wizard {
  private readonly home: string;
  private readonly knownHosts: KnownHosts;
  /** Set once a node's sudo asks for a password (ssh.sudoPasswordEnv). */
  private sudoPasswordEnv: string | undefined;
  /** The answers so far: kept on Ctrl-C for the next run, which may continue from them. */
  private readonly progress: InitProgress;
  private readonly progressFile: string;

  constructor(
    private readonly opts: InitCommandOptions,
    private readonly io: InitIo,
    private readonly prompts: Prompts,
  ) {
    this.home = io.env.HOME || os.homedir();
    this.knownHosts = new KnownHosts({ home: this.home, env: io.env });
    this.progress = emptyProgress(opts.output);
    this.progressFile = progressFile(opts.output, io.env);
  }

  async run(): Promise<number> {
    try {
      return await this.ask();
    } catch (error) {
      if (!isPromptExit(error)) throw error;
      this.io.err(this.stop());
      return EXIT_INTERRUPTED;
    }
  }

  /** Keeps the answers for the next run (when there are any) and says truthfully what was and was not written. */
  private stop(): string {
    let kept: string | undefined;
    if (hasAnswers(this.progress)) {
      try {
        saveProgress(this.progressFile, this.progress);
        kept = this.progressFile;
      } catch {
        kept = undefined; // nothing kept: the message says nothing about it
      }
    }
    return stoppedText(this.progress, { knownHosts: this.knownHosts.file, ...(kept ? { progress: kept } : {}) }, this.opts.output);
  }

  private async ask(): Promise<number> {
    const { io, prompts, opts, progress } = this;
    const target = path.resolve(opts.output);
    let replace = Boolean(opts.force);
    if (existsSync(target) && !replace) {
      replace = await prompts.confirm({ message: `${opts.output} already exists. Replace it with the inventory this wizard writes?`, default: false });
      if (!replace) {
        io.err(`Nothing was written; ${opts.output} is unchanged. Pass -o to write another file.\n`);
        return EXIT_FAILED;
      }
    }
    const earlier = readProgress(this.progressFile, opts.output);
    if (earlier && hasAnswers(earlier)) {
      io.out(
        `An earlier revue-pi init for ${opts.output} was stopped. Its answers:\n${describeProgress(earlier)
          .map((l) => `  ${l}\n`)
          .join('')}`,
      );
      if (await prompts.confirm({ message: 'Continue with those answers?', default: true })) Object.assign(progress, earlier);
      else forgetProgress(this.progressFile);
    }
    io.out(
      `This writes ${opts.output} for revue-pi, probing each Pi over SSH as you add it. Ctrl-C stops without writing it; your answers are kept to continue later.\n\n`,
    );

    progress.clusterName ??= await prompts.text({ message: 'Cluster name', default: 'revue', validate: clusterNameProblem });
    progress.user ??= await prompts.text({ message: 'SSH user on the Pis (it must be able to run sudo)', default: 'pi', validate: userProblem });
    progress.login ??= await this.askLogin();
    const { user, login } = progress;
    if (progress.sudoPasswordEnv) this.sudoPasswordEnv = progress.sudoPasswordEnv;
    const nodes = await this.askNodes(user, login);
    progress.domain ??= await prompts.text({ message: 'DNS domain for the web UIs (<name>.<domain>)', default: 'revue.local', validate: domainProblem });
    progress.workloads ??= await this.askWorkloads();
    const { domain, workloads } = progress;
    const suggestion = suggestPool(nodes.map((n) => n.host));
    progress.pool ??= await prompts.text({
      message: 'MetalLB address range: free LAN addresses outside your DHCP range, for the ingress and other services',
      ...(suggestion ? { default: suggestion } : {}),
      validate: (v) => poolProblem(v, nodes, workloads),
    });
    const pool = progress.pool;
    progress.k3s ??= await this.askK3s();

    const ssh = { user, login, ...(this.sudoPasswordEnv ? { sudoPasswordEnv: this.sudoPasswordEnv } : {}) };
    const answers: InitAnswers = { clusterName: progress.clusterName, domain, ssh, nodes, workloads, pool, ...progress.k3s };
    const text = renderInventoryYaml(answers, opts.output);
    // The same checks as `up`: a file the wizard writes must never be refused by it.
    const { warnings } = parseInventory(text, target, { homeDir: this.home, fileExists: (f) => existsSync(f) });
    if (existsSync(target) && !replace) {
      const late = await prompts.confirm({ message: `${opts.output} appeared while you answered. Replace it?`, default: false });
      if (!late) {
        io.err(`Nothing was written; ${opts.output} is unchanged.\n`);
        return EXIT_FAILED;
      }
    }
    writeAtomically(target, text);
    forgetProgress(this.progressFile);
    for (const w of warnings) io.out(`! ${w.path}: ${w.message}\n`);
    const secretEnvs = [login.kind === 'key' ? login.passphraseEnv : login.kind === 'password' ? login.passwordEnv : undefined, this.sudoPasswordEnv].filter(
      (e): e is string => e !== undefined,
    );
    io.out(`\n${nextSteps(opts.output, fixedAddresses(pool, workloads).ingress, domain, secretEnvs)}`);
    return EXIT_OK;
  }

  private async askLogin(): Promise<SshLogin> {
    const { prompts, io } = this;
    const keys = findSshKeys(this.home);
    const agent = Boolean(io.env.SSH_AUTH_SOCK);
    const OTHER = 'other';
    const PASSWORD = 'password';
    type Pick = SshLogin | FoundKey | typeof OTHER | typeof PASSWORD;
    const choices: { name: string; value: Pick }[] = [
      ...(agent ? [{ name: 'the keys in your ssh-agent (SSH_AUTH_SOCK)', value: { kind: 'agent' } as SshLogin }] : []),
      ...keys.map((k) => ({ name: k.encrypted ? `${k.shown} (passphrase-protected)` : k.shown, value: k as Pick })),
      { name: 'another private key file…', value: OTHER },
      { name: 'a password, from an environment variable', value: PASSWORD },
    ];
    if (!agent && keys.length === 0) {
      io.out(
        'No SSH key pair was found in ~/.ssh and no ssh-agent is running. Create one with `ssh-keygen -t ed25519` and copy it to each Pi with `ssh-copy-id`, or name an existing key file, or log in with a password.\n',
      );
    }
    const picked = await prompts.select<Pick>({ message: 'How should revue-pi log in to the Pis?', choices });
    if (picked === PASSWORD) {
      const passwordEnv = await prompts.text({
        message: 'NAME of the environment variable that will hold the SSH password (the inventory never holds the secret)',
        default: 'PI_PASSWORD',
        validate: envNameProblem,
      });
      if (!io.env[passwordEnv])
        io.out(`! ${passwordEnv} is not set: the probes below cannot log in. Export it and run init again, or keep the nodes unprobed.\n`);
      return { kind: 'password', passwordEnv };
    }
    if (typeof picked === 'object' && 'kind' in picked) return picked;
    let key: FoundKey;
    if (picked === OTHER) {
      const file = await prompts.text({
        message: 'Private key file',
        validate: (v) => {
          const abs = path.resolve(v.startsWith('~/') ? path.join(this.home, v.slice(2)) : v);
          if (!existsSync(abs)) return `${abs} does not exist`;
          return keyFileState(abs) === 'invalid' ? `${abs} is not a private key (is it the .pub file?)` : undefined;
        },
      });
      const abs = path.resolve(file.startsWith('~/') ? path.join(this.home, file.slice(2)) : file);
      key = { shown: shownPath(abs, this.home), file: abs, encrypted: keyFileState(abs) === 'encrypted' };
    } else {
      key = picked;
    }
    if (!key.encrypted) return { kind: 'key', keyPath: key.shown };
    const passphraseEnv = await prompts.text({
      message: `${key.shown} needs its passphrase: NAME of the environment variable holding it (the inventory never holds the secret)`,
      default: 'PI_KEY_PASSPHRASE',
      validate: envNameProblem,
    });
    if (!io.env[passphraseEnv])
      io.out(`! ${passphraseEnv} is not set: the probes below cannot use the key. Export it and run init again, or keep the nodes unprobed.\n`);
    return { kind: 'key', keyPath: key.shown, passphraseEnv };
  }

  private async askNodes(user: string, login: SshLogin): Promise<InitNode[]> {
    const { prompts, io } = this;
    // The same list as the progress: each node accepted is kept at once.
    const nodes: InitNode[] = this.progress.nodes;
    let resumed = nodes.length > 0;
    for (;;) {
      if (resumed) {
        resumed = false;
        if (!(await prompts.confirm({ message: 'Add another node?', default: nodes.length < 3 }))) break;
      }
      const index = nodes.length + 1;
      const names = nodes.map((n) => n.name);
      const suggested = [`pi-${index}`, ...Array.from({ length: 50 }, (_, i) => `pi-${index + i + 1}`)].find((n) => !names.includes(n));
      io.out(`\nNode ${index}\n`);
      const name = await prompts.text({
        message: 'Name (its hostname and Kubernetes node name)',
        ...(suggested ? { default: suggested } : {}),
        validate: (v) => nodeNameProblem(v, names),
      });
      const address = await prompts.text({
        message: `Address of ${name} (IP or DNS name it answers SSH on; add :port when it is not 22)`,
        validate: (v) => hostProblem(v, nodes),
      });
      const hasServer = nodes.some((n) => n.role === 'server');
      const role = await prompts.select<NodeRole>({
        message: `Role of ${name}`,
        choices: [
          { name: 'server — runs the K3s control plane (and workloads)', value: 'server', short: 'server' },
          { name: 'agent — runs workloads only', value: 'agent', short: 'agent' },
        ],
        default: hasServer ? 'agent' : 'server',
      });
      const node: InitNode = { name, ...splitNodeAddress(address), role };
      const kept = await this.checkUntilDecided(node, nodes, user, login);
      if (kept) nodes.push(kept);
      const more = await prompts.confirm({ message: 'Add another node?', default: nodes.length < 3 });
      if (more) continue;
      if (nodes.length === 0) {
        io.out('An inventory needs at least one node.\n');
        continue;
      }
      break;
    }
    if (!nodes.some((n) => n.role === 'server')) {
      io.out('No node is a server, and K3s needs one to run its control plane.\n');
      const server = await prompts.select<string>({
        message: 'Which node becomes the server?',
        choices: nodes.map((n) => ({ name: `${n.name} (${n.host})`, value: n.name })),
      });
      nodes.find((n) => n.name === server)!.role = 'server';
    }
    const servers = nodes.filter((n) => n.role === 'server').length;
    if (servers % 2 === 0) {
      io.out(
        `! ${servers} servers: etcd needs a majority, so they survive no more failures than ${servers - 1}; 1, 3 or 5 servers are better. You can change roles in the file.\n`,
      );
    }
    return nodes;
  }

  /** Probes the node; when that fails, lets the user keep it as it is, fix its address or user and probe again, or drop it (undefined). */
  private async checkUntilDecided(node: InitNode, others: InitNode[], user: string, login: SshLogin): Promise<InitNode | undefined> {
    const { prompts, io } = this;
    for (;;) {
      const probe = await this.probe(node, user, login);
      if (probe.ok) {
        for (const w of factWarnings(probe.facts, node.role)) io.out(`  ! ${node.name}: ${w}\n`);
        const loginUser = node.user ?? user;
        if (typeof probe.sudo === 'object') {
          io.out(
            `  ! ${node.name}: ${loginUser} cannot use sudo there (${probe.sudo.problem}); revue-pi needs it — add ${loginUser} to the sudo group on the node.\n`,
          );
        } else if (probe.sudo === 'password' && this.sudoPasswordEnv === undefined) {
          io.out(
            `  ${node.name}: sudo asks ${loginUser} for a password. revue-pi hands it to sudo through stdin (never a command line), read from an environment variable you export before running it.\n`,
          );
          // Logged in with a password, sudo most likely wants the same one.
          const suggested = login.kind === 'password' ? login.passwordEnv : 'PI_SUDO_PASSWORD';
          this.sudoPasswordEnv = await prompts.text({
            message: 'NAME of the environment variable that will hold the sudo password',
            default: suggested,
            validate: envNameProblem,
          });
          this.progress.sudoPasswordEnv = this.sudoPasswordEnv;
        }
        return { ...node, found: describeFacts(probe.facts) };
      }
      const action = await prompts.select<'keep' | 'fix' | 'drop'>({
        message: `What now with ${node.name}?`,
        choices: [
          { name: 'fix its address or SSH user, and try again', value: 'fix', short: 'fix' },
          { name: 'keep it as it is (plan and up will try again)', value: 'keep', short: 'keep' },
          { name: 'drop it', value: 'drop', short: 'drop' },
        ],
      });
      if (action === 'keep') return { ...node };
      if (action === 'drop') {
        io.out(`Dropped ${node.name}.\n`);
        return undefined;
      }
      const address = await prompts.text({ message: `Address of ${node.name}`, default: formatNodeAddress(node), validate: (v) => hostProblem(v, others) });
      const nodeUser = await prompts.text({ message: `SSH user on ${node.name}`, default: node.user ?? user, validate: userProblem });
      node = { name: node.name, ...splitNodeAddress(address), role: node.role, ...(nodeUser !== user ? { user: nodeUser } : {}) };
    }
  }

  private async probe(node: InitNode, user: string, login: SshLogin): Promise<Probe> {
    const { io, prompts, knownHosts } = this;
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
      io.err(this.stop());
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
        this.progress.trusted.push(`${node.name} (${formatNodeAddress(node)})`);
        spinner.start(`Logging in to ${where}…`);
      }
      // A changed or revoked key goes on to connectNode, which refuses it with the full explanation.
      transport = await connectNode(this.sshSettings(node, user, login), {
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

  private sshSettings(node: InitNode, user: string, login: SshLogin): NodeSshSettings {
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

  /** A pinned release (the tested one by default, or another) or a channel that up follows when it installs. */
  private async askK3s(): Promise<Pick<InitAnswers, 'k3sVersion' | 'k3sChannel'>> {
    const picked = await this.prompts.select<'pinned' | 'stable' | 'latest' | 'other'>({
      message: 'K3s release',
      choices: [
        { name: `${DEFAULT_K3S_VERSION} — the release revue-pi is tested with; every run installs the same`, value: 'pinned', short: DEFAULT_K3S_VERSION },
        { name: 'the stable channel — the newest stable release when up installs K3s', value: 'stable', short: 'stable channel' },
        { name: 'the latest channel — the newest release, a new minor line included', value: 'latest', short: 'latest channel' },
        { name: 'another version…', value: 'other', short: 'another version' },
      ],
      default: 'pinned',
    });
    if (picked === 'stable' || picked === 'latest') return { k3sVersion: DEFAULT_K3S_VERSION, k3sChannel: picked };
    if (picked === 'pinned') return { k3sVersion: DEFAULT_K3S_VERSION };
    return { k3sVersion: await this.prompts.text({ message: 'K3s version', default: DEFAULT_K3S_VERSION, validate: k3sVersionProblem }) };
  }

  private async askWorkloads(): Promise<WorkloadChoice> {
    const picked = await this.prompts.checkbox<keyof WorkloadChoice>({
      message: 'Workloads to deploy (space toggles, enter accepts)',
      choices: [
        { name: 'revue — the Revue microservices, their MongoDB instances, Kafka and the media server', value: 'revue', short: 'revue', checked: true },
        { name: 'monitoring — Prometheus and Grafana with the Kubernetes dashboards', value: 'monitoring', short: 'monitoring', checked: true },
        { name: "kafka-ui — a web UI for Revue's Kafka topics", value: 'kafkaUi', short: 'kafka-ui', checked: true },
      ],
    });
    return { revue: picked.includes('revue'), monitoring: picked.includes('monitoring'), kafkaUi: picked.includes('kafkaUi') };
  }
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
