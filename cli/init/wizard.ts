import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseInventory } from '../../core/inventory/parse.js';
import { KnownHosts } from '../../core/remote/known-hosts.js';
import { isPromptExit, type Prompts } from '../ui/prompts.js';
import type { InitAnswers, InitNode, NodeRole, SshLogin } from './answers.js';
import { EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, type InitCommandOptions, type InitIo } from './io.js';
import { writeAtomically } from './output-file.js';
import { probeNode, type ProbeContext } from './probe-node.js';
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
} from './progress.js';
import { askK3s, askLogin, askWorkloads } from './questions.js';
import { renderInventoryYaml } from './render.js';
import { describeFacts, factWarnings, nextSteps } from './text.js';
import {
  clusterNameProblem,
  domainProblem,
  envNameProblem,
  fixedAddresses,
  formatNodeAddress,
  hostProblem,
  nodeNameProblem,
  poolProblem,
  splitNodeAddress,
  suggestPool,
  userProblem,
} from './validate.js';

/**
 * The interactive `revue-pi init`: asks in order (cluster, login, nodes — each probed as it is entered —, domain,
 * workloads, MetalLB pool, K3s), keeps the answers so far for a stopped run to continue from, and writes the
 * inventory once, at the very end. The questions that need no node live in questions.ts, the probe in probe-node.ts.
 */
export class Wizard {
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

  private probeContext(): ProbeContext {
    return {
      io: this.io,
      prompts: this.prompts,
      knownHosts: this.knownHosts,
      stoppedText: () => this.stop(),
      onTrusted: (label: string) => this.progress.trusted.push(label),
    };
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
    progress.login ??= await askLogin(prompts, io, this.home);
    const { user, login } = progress;
    if (progress.sudoPasswordEnv) this.sudoPasswordEnv = progress.sudoPasswordEnv;
    const nodes = await this.askNodes(user, login);
    progress.domain ??= await prompts.text({ message: 'DNS domain for the web UIs (<name>.<domain>)', default: 'revue.local', validate: domainProblem });
    progress.workloads ??= await askWorkloads(prompts);
    const { domain, workloads } = progress;
    const suggestion = suggestPool(nodes.map((n) => n.host));
    progress.pool ??= await prompts.text({
      message: 'MetalLB address range: free LAN addresses outside your DHCP range, for the ingress and other services',
      ...(suggestion ? { default: suggestion } : {}),
      validate: (v) => poolProblem(v, nodes, workloads),
    });
    const pool = progress.pool;
    progress.k3s ??= await askK3s(prompts);

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
      const probe = await probeNode(node, user, login, this.probeContext());
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
}
