/**
 * `npm run demo`: the whole job on one machine, no Pi needed. Starts the lab (three simulated Pis: real sshd, sudo,
 * boot files, reboots), runs the built `revue-pi up` against them with its real output, then `revue-pi status`, and
 * removes everything again on exit — also on Ctrl-C. K3s is the lab's STAND-IN (test/lab/k3s-standin/).
 *
 *   npm run demo                 # builds first, then runs this with tsx
 *   npx tsx scripts/demo.ts --keep   # leave the lab running until Ctrl-C, to try more commands on it
 *
 * Linux and root only (the lab uses namespaces and real sshd). Nothing outside 127.0.0.0/8 is contacted, and
 * neither ~/.kube/config nor ~/.local/state is touched: the kubeconfig and state go to a temporary folder.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { argv, chalk, echo } from 'zx';
import { labSupport, startLab, type Lab } from '../test/lab/lab.js';
import { startInstallerServer, STANDIN_CHANNELS, type InstallerServer } from '../test/lab/k3s-standin/server.js';
import { demoArgs, keepInstructions, type DemoPaths } from './demo-commands.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = path.join(ROOT, 'dist', 'revue-pi.js');
/** The demo's own lab addresses (tests use others; see test/lab/README.md). */
const SUBNET = (argv.subnet as string | undefined) ?? '127.0.100.';
const NODES = ['pi-1', 'pi-2', 'pi-3'];

const t0 = Date.now();
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const say = (text: string) => echo(chalk.bold.cyan(`\n▶ ${text}`));

let lab: Lab | undefined;
let labStarting: Promise<Lab> | undefined;
let installer: InstallerServer | undefined;
let child: ChildProcess | undefined;
let workDir: string | undefined;
let cleaning: Promise<void> | undefined;
/** The nodes' mount namespaces, read right after the lab starts (a Ctrl-C in the terminal also reaches the nodes). */
let namespaces: string[] = [];

/** Stops whatever was started, once, and checks in /proc (what ps reads) that no process of the nodes is left. */
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await new Promise((resolve) => {
        const timer = setTimeout(() => {
          child?.kill('SIGKILL');
          resolve(undefined);
        }, 5000);
        child!.once('exit', () => {
          clearTimeout(timer);
          resolve(undefined);
        });
      });
    }
    if (!lab && labStarting) lab = await labStarting.catch(() => undefined);
    if (lab && namespaces.length === 0) namespaces = await nodeNamespaces(lab);
    const t1 = Date.now();
    await lab?.stop().catch((error: unknown) => echo(chalk.red(`Stopping the lab failed: ${String(error)}`)));
    await installer?.stop().catch(() => undefined);
    if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
    if (lab) {
      // Killed processes take a moment to disappear from /proc.
      let left = leftovers(namespaces);
      for (let i = 0; i < 50 && left.length > 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        left = leftovers(namespaces);
      }
      if (left.length === 0)
        echo(
          chalk.green(`Lab stopped and removed in ${seconds(Date.now() - t1)}; no process is left in its nodes' namespaces (${namespaces.length} checked).`),
        );
      else echo(chalk.red(`Lab stopped, but these processes of its nodes are still there:\n${left.join('\n')}`));
    }
  })();
  return cleaning;
}

/** Each running node's mount namespace (e.g. `mnt:[4026532182]`): every process of a node lives in it. */
async function nodeNamespaces(l: Lab): Promise<string[]> {
  const found = await Promise.all(
    l.nodes.map((n) =>
      n.exec('readlink /proc/self/ns/mnt').then(
        (r) => r.stdout.trim(),
        () => '',
      ),
    ),
  );
  return found.filter((ns) => ns.startsWith('mnt:'));
}

/** Processes still in one of those namespaces (what `ps` would list for the lab), read from /proc. */
function leftovers(namespaces: string[]): string[] {
  const out: string[] = [];
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (!namespaces.includes(fs.readlinkSync(`/proc/${pid}/ns/mnt`))) continue;
      out.push(`  ${pid} ${fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim()}`);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Set on Ctrl-C/SIGTERM: nothing new is started after it. */
let stopping = false;

function onSignal(signal: NodeJS.Signals): void {
  if (stopping) return;
  stopping = true;
  echo(chalk.yellow(`\n${signal}: stopping the demo and removing the lab…`));
  const code = signal === 'SIGINT' ? 130 : 143;
  void cleanup().then(() => {
    echo(chalk.bold(`Demo stopped by ${signal} after ${seconds(Date.now() - t0)} (exit ${code}).`));
    process.exit(code);
  });
}

/** Runs the built CLI with its output straight on this terminal; resolves with its exit code. */
function revuePi(args: string[]): Promise<number> {
  if (stopping) return new Promise(() => undefined); // the signal handler ends the process
  echo(chalk.dim(`$ revue-pi ${args.join(' ')}`));
  return new Promise((resolve, reject) => {
    child = spawn(process.execPath, [CLI, ...args], { stdio: ['inherit', 'inherit', 'inherit'] });
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

async function main(): Promise<number> {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) {
    echo(chalk.red('The demo needs Linux and root: its simulated Pis are real sshd processes in their own namespaces on 127.0.0.x.'));
    echo('Run it as root (e.g. in a Debian container or VM): sudo npm run demo');
    return 1;
  }
  const support = labSupport();
  if (!support.ok) {
    echo(chalk.red(`The lab cannot start here: ${support.reason}`));
    echo('On Debian/Ubuntu: apt-get install -y openssh-server openssh-client sudo util-linux perl openssl');
    return 1;
  }
  if (!fs.existsSync(CLI)) {
    echo(chalk.red(`${CLI} is missing: run npm run build first (npm run demo does).`));
    return 1;
  }

  echo(chalk.bold('revue-pi demo: the whole job on three simulated Raspberry Pis on this machine.'));
  echo(
    chalk.yellow(
      `Note: K3s here is the lab's STAND-IN (test/lab/k3s-standin/), not K3s — a small Node.js program that honours\n` +
        `the installer's and the API's contract (kubectl subset, nodes, tokens) but runs no containers: workloads are\n` +
        `marked ready as soon as they are applied, and MetalLB hands out no address. SSH, sudo, boot-config edits and\n` +
        `reboots on the simulated Pis are real. The "download" of K3s ${STANDIN_CHANNELS.stable} comes from 127.0.0.1.`,
    ),
  );

  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'revue-pi-demo-'));
  say(`Starting the lab: ${NODES.join(', ')} on ${SUBNET}2-${NODES.length + 1} (real sshd each)`);
  installer = await startInstallerServer();
  const started = Date.now();
  if (stopping) return 130;
  labStarting = startLab(
    NODES.map((name) => ({ name })),
    { subnet: SUBNET },
  );
  lab = await labStarting;
  namespaces = await nodeNamespaces(lab);
  echo(`Lab up in ${seconds(Date.now() - started)}.`);
  for (const n of lab.nodes) echo(`  ${n.name.padEnd(6)} ${n.address}:${n.port}`);
  const inventory = lab.writeInventory({
    cluster: { name: 'demo' },
    // The simulated Pis are reached as the inventory says, whatever your ~/.ssh/config says for other hosts.
    ssh: { configFile: 'none' },
    k3s: { installScriptUrl: installer.url },
    network: { metallb: { pools: [{ name: 'lan', addresses: [`${SUBNET}200-${SUBNET}220`] }] }, addresses: { ingress: `${SUBNET}200` } },
  });
  fs.copyFileSync(inventory, path.join(workDir, 'inventory.yaml'));
  echo(`Inventory: ${inventory}`);
  // Every command gets the demo's own state folder and kubeconfig: your ~/.local/state and ~/.kube/config stay as they are.
  const paths: DemoPaths = {
    cli: path.relative(process.cwd(), CLI) || CLI,
    inventory,
    stateDir: path.join(workDir, 'state'),
    kubeconfig: path.join(workDir, 'kubeconfig'),
  };

  say('revue-pi up: probe, boot config + reboot, K3s (stand-in), MetalLB, Traefik config, monitoring, Revue');
  const upStarted = Date.now();
  const upCode = await revuePi(demoArgs('up', paths));
  if (stopping) return new Promise<number>(() => undefined); // the signal handler ends the process
  echo(chalk.dim(`(up exited ${upCode} after ${seconds(Date.now() - upStarted)})`));

  say('revue-pi status: nodes, MetalLB, workloads, autoscalers, URLs (read-only)');
  const statusStarted = Date.now();
  const statusCode = await revuePi(demoArgs('status', paths));
  echo(
    chalk.dim(
      `(status exited ${statusCode} after ${seconds(Date.now() - statusStarted)}. In the lab it reports K3s's Traefik missing and the LoadBalancer\n` +
        ` Services without an address: the stand-in's helm-controller runs only the Prometheus and Grafana workloads\n` +
        ` the monitoring contract names, and no MetalLB controller hands out addresses — on Pis both do their work.)`,
    ),
  );

  if (argv.keep) {
    echo(chalk.bold(`\n${keepInstructions(paths, 'demo').join('\n')}`));
    await new Promise(() => undefined);
  }
  return upCode === 0 ? 0 : upCode;
}

/**
 * The demo runs in a child process of this one. On Ctrl-C, npm and tsx may kill their own child (this process)
 * before a slow cleanup is done; the child is not theirs, so it always finishes removing the lab. This process
 * passes signals on and exits with the child's code.
 */
async function supervise(): Promise<never> {
  const demo = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, REVUE_PI_DEMO_CHILD: '1' },
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => demo.kill(signal));
  const code = await new Promise<number>((resolve) => demo.once('exit', (c, sig) => resolve(c ?? (sig === 'SIGINT' ? 130 : 143))));
  process.exit(code);
}

async function runDemo(): Promise<never> {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => onSignal(signal));
  let code = 1;
  try {
    code = await main();
  } catch (error) {
    echo(chalk.red(`The demo stopped: ${error instanceof Error ? error.message : String(error)}`));
  } finally {
    await cleanup();
  }
  echo(chalk.bold(`Demo finished in ${seconds(Date.now() - t0)} (exit ${code}).`));
  process.exit(code);
}

await (process.env.REVUE_PI_DEMO_CHILD === '1' ? runDemo() : supervise());
