/**
 * `revue-pi init` as a user meets it: the built CLI in a real pseudo-terminal (a tmux pane), answered key
 * by key, probing lab nodes over SSH; and without a terminal. tmux runs each wizard in its own server
 * (own socket), so nothing here touches another tmux.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseInventory } from '../../core/inventory/parse.js';
import { DEFAULT_K3S_VERSION } from '../../core/inventory/schema.js';
import { fingerprintSha256 } from '../../core/remote/known-hosts.js';
import { startLab, type Lab } from '../lab/lab.js';
import { describeLab } from '../lab/skip.js';
import { CLI, runCli } from './cli.js';
import { TmuxTerminal } from './terminal.js';
import { tempDir } from '../fakes/temp-dir.js';

const EXAMPLE = readFileSync(new URL('../../inventory.example.yaml', import.meta.url), 'utf8');
const SUBNET = '127.0.60.';

// -------------------------------------------------------------------------------------------------------------
// A real terminal: one tmux server per wizard, the CLI as the pane's only process.

const hasTmux = spawnSync('tmux', ['-V']).status === 0;

function describeTerminal(name: string, fn: () => void): void {
  if (hasTmux) {
    describe(name, fn);
    return;
  }
  if (process.env.CI === 'true')
    throw new Error(`Suite "${name}" needs tmux (a real pseudo-terminal) and CI=true forbids skipping it: apt-get install -y tmux (.ci/run does).`);
  console.warn(`\n${'!'.repeat(100)}\n!! SKIPPED "${name}": tmux is not installed (apt-get install -y tmux).\n${'!'.repeat(100)}\n`);
  describe.skip(name, fn);
}

/**
 * `node -e RECORD_EXIT <status file> <script> <args…>`: runs the script in the same terminal and writes
 * {code, signal} to the status file (whole, by rename) when it ends. It ignores SIGINT itself (a handler is not inherited), as a
 * shell waiting for a command does, so Ctrl-C reaches the CLI alone.
 */
const RECORD_EXIT = `
const { spawn } = require('node:child_process');
const { renameSync, writeFileSync } = require('node:fs');
const [status, ...command] = process.argv.slice(1);
process.on('SIGINT', () => {});
spawn(process.execPath, command, { stdio: 'inherit' }).on('exit', (code, signal) => {
  writeFileSync(status + '.tmp', JSON.stringify({ code, signal }));
  renameSync(status + '.tmp', status);
});
`;

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

class Terminal extends TmuxTerminal {
  /** Starts `node dist/revue-pi.js <args>` in the pane, with only the given environment (plus PATH, TERM and LANG). */
  static start(args: string[], opts: { cwd: string; env: Record<string, string> }): Terminal {
    const term = new Terminal();
    // The CLI runs under a small parent that records how it ended (tmux does not always reap the pane's process
    // promptly enough to report it).
    term.launch([process.execPath, '-e', RECORD_EXIT, join(term.dir, 'status.json'), CLI, ...args], opts);
    return term;
  }

  override waitFor(pattern: RegExp | string, timeoutMs = 30_000): Promise<string> {
    return super.waitFor(pattern, timeoutMs);
  }

  /** Waits until the prompt starting with `message` is the one waiting for an answer (answered ones turn into ✔ lines). */
  prompt(message: string): Promise<string> {
    return this.waitFor(new RegExp(`^\\? ${escape(message)}`, 'm'));
  }

  /** After a refused answer: clears the line, types `text` instead, then Enter. */
  retype(text: string): void {
    this.press('C-u');
    this.type(text);
    this.press('Enter');
  }

  /** Answers the prompt `message`: types `text` (if any), then Enter. */
  async answer(message: string, text?: string): Promise<void> {
    await this.prompt(message);
    if (text !== undefined) this.type(text);
    this.press('Enter');
  }

  /** How the CLI ended: its exit code, or the signal that ended it. */
  async exited(timeoutMs = 30_000): Promise<{ code: number | null; signal: string | null }> {
    const file = join(this.dir, 'status.json');
    const deadline = Date.now() + timeoutMs;
    while (!existsSync(file)) {
      if (Date.now() > deadline) throw new Error(`The CLI did not end. The terminal shows:\n${this.screen()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return JSON.parse(readFileSync(file, 'utf8')) as { code: number | null; signal: string | null };
  }
}

/** A home folder holding the lab's key pair as ~/.ssh/id_ed25519(.pub), and a folder to write into. */
const workspaces: string[] = [];
function workspace(keyPath?: string): { home: string; cwd: string } {
  const root = tempDir('init');
  workspaces.push(root);
  const home = join(root, 'home');
  const cwd = join(root, 'work');
  mkdirSync(join(home, '.ssh'), { recursive: true, mode: 0o700 });
  mkdirSync(cwd);
  if (keyPath) {
    copyFileSync(keyPath, join(home, '.ssh', 'id_ed25519'));
    copyFileSync(`${keyPath}.pub`, join(home, '.ssh', 'id_ed25519.pub'));
  }
  return { home, cwd };
}

const fingerprintOf = (hostKeyLine: string) => fingerprintSha256(hostKeyLine.trim().split(/\s+/)[1] as string);

const terminals: Terminal[] = [];
function open(args: string[], opts: { cwd: string; env: Record<string, string> }): Terminal {
  const t = Terminal.start(args, opts);
  terminals.push(t);
  return t;
}
afterEach(() => {
  for (const t of terminals.splice(0)) t.stop();
  for (const root of workspaces.splice(0)) rmSync(root, { recursive: true, force: true });
});

// -------------------------------------------------------------------------------------------------------------

describeLab('revue-pi init in a terminal, probing simulated Pis', () => {
  let lab: Lab;

  beforeAll(async () => {
    expect(hasTmux, 'tmux is needed to give the wizard a real terminal: apt-get install -y tmux').toBe(true);
    lab = await startLab(
      [
        { name: 'pi-1' },
        { name: 'pi-2', sudoPassword: 'raspberry', sshPassword: 'raspberry' },
        { name: 'pi-3', model: 'Raspberry Pi 4 Model B Rev 1.5', os: 'trixie', memoryMiB: 4096, sshPort: 2222 },
      ],
      { subnet: SUBNET },
    );
  });
  afterAll(async () => {
    await lab?.stop();
  });

  it('asks, probes each node (host keys confirmed, a wrong address fixed, a refusal, a node on port 2222, a dropped node) and writes an inventory that plan accepts', async () => {
    const { home, cwd } = workspace(lab.keyPath);
    const [pi1, pi2, pi3] = lab.nodes as [Lab['nodes'][0], Lab['nodes'][0], Lab['nodes'][0]];
    const t = open(['init'], { cwd, env: { HOME: home } });

    await t.answer('Cluster name', 'lab');
    await t.answer('SSH user on the Pis'); // default: pi
    const keyChoice = await t.prompt('How should revue-pi log in to the Pis?');
    expect(keyChoice).toMatch(/^❯ ~\/\.ssh\/id_ed25519$/m);
    expect(keyChoice).not.toContain('ssh-agent'); // SSH_AUTH_SOCK is not set
    t.press('Enter');

    // pi-1: first contact, the OpenSSH question, trusted; the probe shows what it found.
    await t.answer('Name (its hostname'); // default: pi-1
    await t.answer('Address of pi-1', pi1.address);
    await t.answer('Role of pi-1'); // default for the first node: server
    const notice = await t.prompt('Trust it?');
    expect(notice).toContain(
      `The authenticity of host 'pi-1 (${pi1.address})' can't be established.\nED25519 key fingerprint is ${fingerprintOf(pi1.hostKey())}.\n`,
    );
    t.type('y');
    t.press('Enter');
    await t.waitFor(`✔ pi-1 (${pi1.address}): Raspberry Pi 5 Model B Rev 1.0, Debian GNU/Linux 12 (bookworm), 7.9 GiB`);
    await t.answer('Add another node?', 'y');

    // pi-2: a wrong address first — refused connection, then fixed.
    await t.answer('Name (its hostname');
    await t.answer('Address of pi-2', `${SUBNET}99`);
    await t.answer('Role of pi-2'); // default after a server: agent
    await t.waitFor(`✖ pi-2 (${SUBNET}99) could not be reached: connect ECONNREFUSED ${SUBNET}99:22.`);
    await t.answer('What now with pi-2?'); // fix
    await t.answer('Address of pi-2', pi2.address);
    await t.answer('SSH user on pi-2');
    await t.answer('Trust it?', 'y');
    await t.waitFor(`✔ pi-2 (${pi2.address}): Raspberry Pi 5 Model B Rev 1.0, Debian GNU/Linux 12 (bookworm), 7.9 GiB`);
    // pi-2's sudo asks for a password: the inventory will name the variable that holds it.
    await t.waitFor('pi-2: sudo asks pi for a password. revue-pi hands it to sudo through stdin (never a command line)');
    await t.answer('NAME of the environment variable that will hold the sudo password'); // PI_SUDO_PASSWORD
    await t.answer('Add another node?', 'y');

    // pi-3, whose sshd listens on port 2222: its host key refused first (nothing recorded, no login), then trusted;
    // a Pi 4 gets a warning.
    await t.answer('Name (its hostname');
    await t.answer('Address of pi-3', `${pi3.address}:2222`);
    await t.answer('Role of pi-3');
    const notice3 = await t.prompt('Trust it?'); // default: no
    expect(notice3).toContain(`The authenticity of host 'pi-3 (${pi3.address}:2222)' can't be established.`);
    t.press('Enter');
    await t.waitFor(`✖ pi-3 (${pi3.address}:2222): its host key ${fingerprintOf(pi3.hostKey())} was not trusted, so revue-pi did not log in.`);
    const knownHosts = join(home, '.config', 'revue-pi', 'known_hosts');
    expect(readFileSync(knownHosts, 'utf8')).not.toContain(pi3.address);
    await t.answer('What now with pi-3?'); // fix: same address and port, same user
    await t.answer('Address of pi-3');
    await t.answer('SSH user on pi-3');
    await t.answer('Trust it?', 'y');
    await t.waitFor(`✔ pi-3 (${pi3.address}:2222): Raspberry Pi 4 Model B Rev 1.5, Debian GNU/Linux 13 (trixie), 3.9 GiB`);
    await t.waitFor("! pi-3: it cannot run MongoDB 5 or later (needs ARMv8.2-A, which a Raspberry Pi 4 lacks), so Revue's databases must run on Pi 5 nodes.");
    await t.answer('Add another node?', 'y');

    // pi-4 does not exist: dropped.
    await t.answer('Name (its hostname');
    await t.answer('Address of pi-4', `${SUBNET}98`);
    await t.answer('Role of pi-4');
    await t.prompt('What now with pi-4?');
    t.press('Down', 'Down', 'Enter'); // fix, keep, drop
    await t.waitFor('Dropped pi-4.');
    await t.answer('Add another node?', 'n');

    await t.answer('DNS domain'); // revue.local
    await t.answer('Workloads to deploy'); // all three, checked by default
    // The pool: the suggestion is in the nodes' /24; an overlapping and a malformed range are refused.
    const poolPrompt = await t.prompt('MetalLB address range');
    expect(poolPrompt).toContain(`(${SUBNET}200-${SUBNET}220)`);
    t.type(`${SUBNET}1-${SUBNET}10`);
    t.press('Enter');
    await t.waitFor(
      `> ${SUBNET}1-${SUBNET}10 contains node addresses ${pi1.address} (pi-1), ${pi2.address} (pi-2), ${pi3.address} (pi-3) — MetalLB would hand them to services; pick addresses no node uses`,
    );
    t.retype(`${SUBNET}300-${SUBNET}310`);
    await t.waitFor(`> "${SUBNET}300-${SUBNET}310" is not an IPv4 range — write it like 192.168.1.200-192.168.1.220`);
    t.press('C-u', 'Enter'); // the suggestion
    await t.answer('K3s release'); // the pinned default

    expect(await t.exited()).toEqual({ code: 0, signal: null });
    const screen = t.screen();
    expect(screen).toContain(
      'Wrote inventory.yaml. Next:\n  export PI_SUDO_PASSWORD=…    # the inventory names this variable, never the secret\n  npx revue-pi plan -i inventory.yaml ',
    );
    expect(screen).toContain('\n  npx revue-pi up -i inventory.yaml ');

    const file = join(cwd, 'inventory.yaml');
    const text = readFileSync(file, 'utf8');
    const { inventory, warnings } = parseInventory(text, file, { homeDir: home, fileExists: existsSync });
    expect(warnings).toEqual([]);
    expect(inventory.cluster).toEqual({ name: 'lab', domain: 'revue.local' });
    expect(inventory.k3s.version).toBe(DEFAULT_K3S_VERSION);
    expect(inventory.ssh).toMatchObject({ useAgent: false, keyPath: join(home, '.ssh', 'id_ed25519'), sudoPasswordEnv: 'PI_SUDO_PASSWORD' });
    expect(text).toContain('\n  # user: pi\n'); // the default user, left to ~/.ssh/config and then to pi
    expect(text).not.toContain('raspberry');
    expect(inventory.nodes.map((n) => [n.name, n.host, n.role, n.ssh])).toEqual([
      ['pi-1', pi1.address, 'server', undefined],
      ['pi-2', pi2.address, 'agent', undefined],
      ['pi-3', pi3.address, 'agent', { port: 2222 }],
    ]);
    expect(inventory.network.metallb.pools).toEqual([{ name: 'lan', addresses: [`${SUBNET}200-${SUBNET}220`] }]);
    expect(inventory.network.addresses).toEqual({ ingress: `${SUBNET}200`, mediaServer: `${SUBNET}201`, kafka: [`${SUBNET}202`, `${SUBNET}203`] });
    expect(inventory.workloads).toMatchObject({ revue: true, monitoring: true, kafkaUi: true });
    expect(text).toContain('    # Found by revue-pi init: Raspberry Pi 4 Model B Rev 1.5, Debian GNU/Linux 13 (trixie), 3.9 GiB.\n');
    expect(readdirSync(cwd)).toEqual(['inventory.yaml']);

    // The host keys the user confirmed are the nodes' real ones, recorded where up looks for them.
    const recorded = readFileSync(knownHosts, 'utf8').trim().split('\n');
    expect(recorded).toEqual(
      lab
        .knownHosts()
        .trim()
        .split('\n')
        .map((line) => line.split(/\s+/).slice(0, 3).join(' ')),
    );
    expect(recorded[2]).toMatch(new RegExp(`^\\[${escape(pi3.address)}\\]:2222 `));

    // And the file is one plan accepts as it is: same validation, same host keys, every node reached.
    const plan = await runCli(['plan', '-i', 'inventory.yaml', '--json', '--state-dir', join(home, 'state')], {
      cwd,
      env: { HOME: home, SSH_AUTH_SOCK: '', PI_SUDO_PASSWORD: 'raspberry' },
    });
    expect(plan.code, plan.stderr).toBe(0);
    const report = JSON.parse(plan.stdout) as { nodes: { name: string; status: string }[] };
    expect(report.nodes.map((n) => n.name)).toEqual(['pi-1', 'pi-2', 'pi-3']);
    expect(report.nodes.every((n) => n.status !== 'failed')).toBe(true);
  });

  it('logs in through the ssh-agent, replaces a file with --force without asking, and writes the workloads and K3s version chosen', async () => {
    const { home, cwd } = workspace(); // no key pair in ~/.ssh: the agent holds the key
    writeFileSync(join(cwd, 'cluster.yaml'), 'old\n');
    const agentSocket = join(home, 'agent.sock');
    const started = execFileSync('ssh-agent', ['-s', '-a', agentSocket], { encoding: 'utf8' });
    const agentPid = Number(/SSH_AGENT_PID=(\d+)/.exec(started)?.[1]);
    try {
      execFileSync('ssh-add', ['-q', lab.keyPath], { env: { ...process.env, SSH_AUTH_SOCK: agentSocket }, stdio: 'pipe' });
      const pi1 = lab.node('pi-1');
      const t = open(['init', '-o', 'cluster.yaml', '--force'], { cwd, env: { HOME: home, SSH_AUTH_SOCK: agentSocket } });
      await t.answer('Cluster name', 'My Cluster');
      await t.waitFor('> use lowercase letters, digits and "-", starting and ending with a letter or digit (at most 63), e.g. revue');
      t.retype('agent-lab');
      await t.answer('SSH user on the Pis');
      const choices = await t.prompt('How should revue-pi log in to the Pis?');
      expect(choices).toMatch(/^❯ the keys in your ssh-agent \(SSH_AUTH_SOCK\)\n {2}another private key file…\n {2}a password, from an environment variable$/m);
      t.press('Enter');
      await t.answer('Name (its hostname', 'edge-1');
      await t.answer('Address of edge-1', pi1.address);
      await t.answer('Role of edge-1');
      await t.answer('Trust it?', 'y');
      await t.waitFor(`✔ edge-1 (${pi1.address}): Raspberry Pi 5 Model B Rev 1.0`);
      await t.answer('Add another node?', 'n');
      await t.answer('DNS domain', 'home.arpa');
      await t.prompt('Workloads to deploy');
      t.press('Space', 'Down', 'Down', 'Space', 'Enter'); // revue and kafka-ui off: monitoring only
      await t.answer('MetalLB address range', `${SUBNET}240/28`);
      await t.prompt('K3s release');
      t.press('Down', 'Down', 'Down', 'Enter'); // another version…
      await t.answer('K3s version', 'v1.34');
      await t.waitFor('> write a release name from https://github.com/k3s-io/k3s/releases, e.g. v1.33.5+k3s1');
      t.retype('1.34.1+k3s1');
      await t.waitFor('> write it as vX.Y.Z+k3sN — did you mean v1.34.1+k3s1?');
      t.retype('v1.34.1+k3s1');
      expect(await t.exited()).toEqual({ code: 0, signal: null });
      expect(t.screen()).not.toContain('already exists');
      expect(t.screen()).toContain(`The web UIs will answer at <name>.home.arpa on ${SUBNET}240;`);

      const file = join(cwd, 'cluster.yaml');
      const { inventory, warnings } = parseInventory(readFileSync(file, 'utf8'), file, { homeDir: home, fileExists: existsSync });
      expect(warnings).toEqual([]);
      expect(inventory.cluster).toEqual({ name: 'agent-lab', domain: 'home.arpa' });
      expect(inventory.ssh.useAgent).toBe(true);
      expect(inventory.ssh.keyPath).toBeUndefined();
      expect(inventory.ssh.sudoPasswordEnv).toBeUndefined();
      expect(inventory.nodes.map((n) => [n.name, n.host, n.role])).toEqual([['edge-1', pi1.address, 'server']]);
      expect(inventory.k3s.version).toBe('v1.34.1+k3s1');
      expect(inventory.workloads).toMatchObject({ revue: false, monitoring: true, kafkaUi: false });
      expect(inventory.network.metallb.pools).toEqual([{ name: 'lan', addresses: [`${SUBNET}240/28`] }]);
      expect(inventory.network.addresses).toEqual({ ingress: `${SUBNET}240` });
      expect(readdirSync(cwd)).toEqual(['cluster.yaml']);
    } finally {
      process.kill(agentPid, 'SIGTERM');
    }
  });

  it('logs in with a password from an environment variable, which sudo is then offered too, and plan logs in the same way', async () => {
    const { home, cwd } = workspace(); // no key pair, no ssh-agent
    const pi2 = lab.node('pi-2'); // PasswordAuthentication yes; sudo asks for the same password
    const t = open(['init'], { cwd, env: { HOME: home, PI_PASSWORD: 'raspberry' } });
    await t.answer('Cluster name', 'pw');
    await t.answer('SSH user on the Pis');
    await t.prompt('How should revue-pi log in to the Pis?');
    t.press('Down', 'Enter'); // a password
    await t.answer('NAME of the environment variable that will hold the SSH password'); // PI_PASSWORD
    await t.answer('Name (its hostname');
    await t.answer('Address of pi-1', pi2.address);
    await t.answer('Role of pi-1');
    await t.answer('Trust it?', 'y');
    await t.waitFor(`✔ pi-1 (${pi2.address}): Raspberry Pi 5 Model B Rev 1.0`);
    const sudoPrompt = await t.prompt('NAME of the environment variable that will hold the sudo password');
    expect(sudoPrompt).toContain('(PI_PASSWORD)');
    t.press('Enter');
    await t.answer('Add another node?', 'n');
    await t.answer('DNS domain');
    await t.prompt('Workloads to deploy');
    t.press('Space', 'Down', 'Space', 'Down', 'Space', 'Enter'); // none
    await t.answer('MetalLB address range');
    const releases = await t.prompt('K3s release');
    expect(releases).toMatch(
      new RegExp(
        `^❯ ${DEFAULT_K3S_VERSION.replace(/[.+]/g, '\\$&')} — the release revue-pi is tested with; every run installs the same\\n {2}the stable channel — `,
        'm',
      ),
    );
    t.press('Down', 'Enter'); // the stable channel
    expect(await t.exited()).toEqual({ code: 0, signal: null });
    expect(t.screen()).toContain('  export PI_PASSWORD=…');
    expect(t.screen()).not.toContain('raspberry');

    const file = join(cwd, 'inventory.yaml');
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain('raspberry');
    const { inventory } = parseInventory(text, file, { homeDir: home, fileExists: existsSync });
    expect(inventory.ssh).toMatchObject({ passwordEnv: 'PI_PASSWORD', sudoPasswordEnv: 'PI_PASSWORD', useAgent: false });
    expect([inventory.k3s.channel, inventory.k3s.version]).toEqual(['stable', undefined]);
    expect(inventory.ssh.keyPath).toBeUndefined();
    const plan = await runCli(['plan', '-i', 'inventory.yaml', '--json', '--state-dir', join(home, 'state')], {
      cwd,
      env: { HOME: home, SSH_AUTH_SOCK: '', PI_PASSWORD: 'raspberry' },
    });
    expect(plan.code, plan.stderr).toBe(0);
    expect((JSON.parse(plan.stdout) as { nodes: { name: string; status: string }[] }).nodes.map((n) => [n.name, n.status !== 'failed'])).toEqual([
      ['pi-1', true],
    ]);
  });

  it('a node whose host key changed is refused with the recorded and presented fingerprints, and the record is kept', async () => {
    const { home, cwd } = workspace(lab.keyPath);
    const pi1 = lab.node('pi-1');
    const knownHosts = join(home, '.config', 'revue-pi', 'known_hosts');
    const other = readFileSync(new URL('../fixtures/boot/keys/operator_ed25519.pub', import.meta.url), 'utf8')
      .trim()
      .split(/\s+/);
    mkdirSync(join(home, '.config', 'revue-pi'), { recursive: true });
    writeFileSync(knownHosts, `${pi1.address} ${other[0]} ${other[1]}\n`);
    const t = open(['init'], { cwd, env: { HOME: home } });
    await t.answer('Cluster name');
    await t.answer('SSH user on the Pis');
    await t.answer('How should revue-pi log in to the Pis?');
    await t.answer('Name (its hostname');
    await t.answer('Address of pi-1', pi1.address);
    await t.answer('Role of pi-1');
    const screen = await t.prompt('What now with pi-1?');
    expect(screen).not.toContain('The authenticity of host');
    const refusal = screen.split('\n').find((l) => l.startsWith('✖ pi-1'));
    expect(refusal).toContain(`✖ pi-1 (${pi1.address}): The SSH host key of node pi-1 (${pi1.address}`);
    expect(refusal).toMatch(
      new RegExp(`has changed: expected ${escape(fingerprintSha256(other[1] as string))}.*, got ${escape(fingerprintOf(pi1.hostKey()))}`),
    );
    expect(refusal).toContain(`Refusing to connect. If the node was re-imaged, remove its line from ${knownHosts} and run again`);
    t.press('C-c');
    expect(await t.exited()).toEqual({ code: 130, signal: null });
    expect(readFileSync(knownHosts, 'utf8')).toBe(`${pi1.address} ${other[0]} ${other[1]}\n`);
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('Ctrl-C says which host keys were trusted and keeps the answers; the next init continues from them', async () => {
    const { home, cwd } = workspace(lab.keyPath);
    const pi1 = lab.node('pi-1');
    const knownHosts = join(home, '.config', 'revue-pi', 'known_hosts');
    const first = open(['init'], { cwd, env: { HOME: home } });
    await first.answer('Cluster name', 'resumed');
    await first.answer('SSH user on the Pis');
    await first.answer('How should revue-pi log in to the Pis?');
    await first.answer('Name (its hostname');
    await first.answer('Address of pi-1', pi1.address);
    await first.answer('Role of pi-1');
    await first.answer('Trust it?', 'y');
    await first.prompt('Add another node?');
    first.press('C-c');
    expect(await first.exited()).toEqual({ code: 130, signal: null });
    const stopped = first.screen();
    expect(stopped).toContain('Stopped: inventory.yaml was not written.');
    expect(stopped).toContain(`The host keys you trusted were recorded in ${knownHosts} and stay trusted: pi-1 (${pi1.address}).`);
    expect(stopped).toMatch(
      new RegExp(
        `Your answers so far are kept in ${escape(home)}/\\.local/state/revue-pi/init/[0-9a-f]{16}\\.json: run revue-pi init again to continue from there\\.`,
      ),
    );
    expect(readdirSync(cwd)).toEqual([]);
    expect(readFileSync(knownHosts, 'utf8')).toContain(pi1.address);

    const again = open(['init'], { cwd, env: { HOME: home } });
    const offer = await again.prompt('Continue with those answers?');
    expect(offer).toContain(
      `An earlier revue-pi init for inventory.yaml was stopped. Its answers:\n  cluster resumed\n  SSH user pi, logging in with the key ~/.ssh/id_ed25519\n  nodes pi-1 (${pi1.address}, server)\n`,
    );
    again.press('Enter');
    // Straight on where it stopped: no question already answered comes back, and pi-1 is not probed again.
    await again.answer('Add another node?', 'n');
    await again.answer('DNS domain');
    await again.answer('Workloads to deploy');
    await again.answer('MetalLB address range');
    await again.answer('K3s release');
    expect(await again.exited()).toEqual({ code: 0, signal: null });
    expect(again.screen()).not.toContain('Cluster name');
    expect(again.screen()).not.toContain('Trust it?');
    const file = join(cwd, 'inventory.yaml');
    const { inventory } = parseInventory(readFileSync(file, 'utf8'), file, { homeDir: home, fileExists: existsSync });
    expect(inventory.cluster.name).toBe('resumed');
    expect(inventory.nodes.map((n) => [n.name, n.host, n.role])).toEqual([['pi-1', pi1.address, 'server']]);
    // Done: the kept answers are gone, a third init starts afresh.
    expect(readdirSync(join(home, '.local', 'state', 'revue-pi', 'init'))).toEqual([]);
  });

  it('Ctrl-C while a node is being probed stops at once and leaves no file', async () => {
    // A TCP server on port 22 that never speaks SSH: the probe waits on it with the spinner running.
    const silent: Socket[] = [];
    const server: Server = createServer((s) => silent.push(s));
    await new Promise<void>((resolve) => server.listen(22, `${SUBNET}50`, resolve));
    try {
      const { home, cwd } = workspace(lab.keyPath);
      const t = open(['init'], { cwd, env: { HOME: home } });
      await t.answer('Cluster name');
      await t.answer('SSH user on the Pis');
      await t.answer('How should revue-pi log in to the Pis?');
      await t.answer('Name (its hostname');
      await t.answer('Address of pi-1', `${SUBNET}50`);
      await t.answer('Role of pi-1');
      await t.waitFor(`Connecting to pi-1 (${SUBNET}50)…`);
      for (let i = 0; i < 50 && silent.length === 0; i++) await new Promise((r) => setTimeout(r, 100));
      expect(silent.length).toBe(1);
      t.press('C-c');
      // Ended by the SIGINT, well before the 10 s connection timeout.
      expect(await t.exited(5_000)).toEqual({ code: null, signal: 'SIGINT' });
      // Truthful: the inventory was not written, the answers were (for the next run), no host key was trusted.
      expect(t.screen()).toContain(`Stopped: inventory.yaml was not written.\nYour answers so far are kept in ${home}/.local/state/revue-pi/init/`);
      expect(t.screen()).not.toContain('host keys you trusted');
      expect(readdirSync(cwd)).toEqual([]);
    } finally {
      for (const s of silent) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describeTerminal('revue-pi init in a terminal: overwriting and Ctrl-C', () => {
  it('a default erased by mistake comes back: Backspace cannot remove it, Tab puts it on the line again', async () => {
    const { home, cwd } = workspace();
    const t = open(['init'], { cwd, env: { HOME: home } });
    await t.prompt('Cluster name (revue)');
    t.press('BSpace', 'BSpace', 'Enter');
    await t.prompt('SSH user on the Pis (it must be able to run sudo) (pi)');
    expect(t.screen()).toMatch(/^✔ Cluster name revue$/m);
    t.press('Tab');
    await t.waitFor(/^\? SSH user on the Pis \(it must be able to run sudo\) pi$/m);
    t.press('C-u');
    await t.waitFor(/^\? SSH user on the Pis \(it must be able to run sudo\) \(pi\) ?$/m);
    t.press('Tab');
    t.type('xy');
    await t.waitFor(/^\? SSH user on the Pis \(it must be able to run sudo\) pixy$/m);
    t.press('BSpace', 'BSpace', 'Enter');
    await t.prompt('How should revue-pi log in to the Pis?');
    expect(t.screen()).toMatch(/^✔ SSH user on the Pis \(it must be able to run sudo\) pi$/m);
    t.press('C-c');
    expect(await t.exited()).toEqual({ code: 130, signal: null });
  });

  it('asks before replacing an existing file, and leaves it alone when told no', async () => {
    const { home, cwd } = workspace();
    writeFileSync(join(cwd, 'inventory.yaml'), 'keep me\n');
    const t = open(['init'], { cwd, env: { HOME: home } });
    const screen = await t.prompt('inventory.yaml already exists. Replace it with the inventory this wizard writes? (y/N)');
    expect(screen).not.toContain('Cluster name'); // asked first, before any work
    t.press('Enter');
    expect(await t.exited()).toEqual({ code: 1, signal: null });
    expect(t.screen()).toContain('Nothing was written; inventory.yaml is unchanged.');
    expect(readFileSync(join(cwd, 'inventory.yaml'), 'utf8')).toBe('keep me\n');
  });

  it('Ctrl-C at the last question, after agreeing to replace the file, leaves it as it was and no temp file (on the way: no key pair found, a .pub refused, no server chosen)', async () => {
    const { home, cwd } = workspace();
    writeFileSync(join(cwd, 'inventory.yaml'), 'keep me\n');
    // No key pair in this home: the wizard says so and asks for a key file; an unreachable node is kept unprobed.
    writeFileSync(join(home, 'key'), readFileSync(new URL('../fixtures/boot/keys/operator_ed25519.pub', import.meta.url)));
    const t = open(['init', '-o', 'inventory.yaml'], { cwd, env: { HOME: home } });
    await t.answer('inventory.yaml already exists.', 'y');
    await t.answer('Cluster name');
    await t.answer('SSH user on the Pis');
    const loginPrompt = await t.prompt('How should revue-pi log in to the Pis?');
    expect(loginPrompt).toContain('No SSH key pair was found in ~/.ssh and no ssh-agent is running.');
    expect(loginPrompt).toMatch(/^❯ another private key file…\n {2}a password, from an environment variable$/m);
    t.press('Enter');
    await t.prompt('Private key file');
    t.type('~/key');
    t.press('Enter');
    await t.waitFor(`> ${join(home, 'key')} is not a private key (is it the .pub file?)`);
    t.press('C-u');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(home, 'other_key')]);
    t.type('~/other_key');
    t.press('Enter');
    await t.answer('Name (its hostname');
    await t.answer('Address of pi-1', `${SUBNET}97`);
    await t.prompt('Role of pi-1');
    t.press('Down', 'Enter'); // agent
    await t.prompt('What now with pi-1?');
    t.press('Down', 'Enter'); // keep
    await t.answer('Add another node?', 'n');
    // No server among the nodes: the wizard makes the user pick one.
    const pick = await t.prompt('Which node becomes the server?');
    expect(pick).toContain(`No node is a server, and K3s needs one to run its control plane.\n? Which node becomes the server?\n❯ pi-1 (${SUBNET}97)`);
    t.press('Enter');
    await t.answer('DNS domain');
    await t.answer('Workloads to deploy');
    await t.answer('MetalLB address range');
    await t.prompt('K3s release');
    t.press('C-c');
    expect(await t.exited()).toEqual({ code: 130, signal: null });
    expect(t.screen()).toContain('Stopped: inventory.yaml was not written.\nYour answers so far are kept in');
    expect(readFileSync(join(cwd, 'inventory.yaml'), 'utf8')).toBe('keep me\n');
    expect(readdirSync(cwd)).toEqual(['inventory.yaml']);
  });
});

describe('revue-pi init without a terminal', () => {
  let dir: string;
  beforeAll(() => {
    dir = tempDir('init-notty');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('stops with exit 2 and points at writing the inventory by hand', async () => {
    const result = await runCli(['init', '-o', join(dir, 'inventory.yaml')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('revue-pi init asks its questions on a terminal, and this is not one');
    expect(result.stderr).toContain('`revue-pi up -i inventory.yaml`');
    expect(result.stderr).toContain('`revue-pi init --defaults`');
    expect(existsSync(join(dir, 'inventory.yaml'))).toBe(false);
  });

  it('--defaults writes the packaged example, never replaces a file without --force', async () => {
    const file = join(dir, 'example.yaml');
    const first = await runCli(['init', '--defaults', '-o', file]);
    expect(first.code, first.stderr).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(EXAMPLE);
    expect(first.stdout).toContain(`npx revue-pi plan -i ${file}`);
    expect(parseInventory(EXAMPLE, file).warnings).toEqual([]);

    writeFileSync(file, 'my edits\n');
    const again = await runCli(['init', '--defaults', '-o', file]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain(`${file} already exists; nothing was written. Pass --force to replace it`);
    expect(readFileSync(file, 'utf8')).toBe('my edits\n');

    const forced = await runCli(['init', '--defaults', '--force', '-o', file]);
    expect(forced.code, forced.stderr).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(EXAMPLE);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp'))).toEqual([]);
  });

  it('refuses an output folder that does not exist before asking anything (exit 2)', async () => {
    const result = await runCli(['init', '--defaults', '-o', join(dir, 'missing', 'inventory.yaml')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`the folder ${join(dir, 'missing')} for ${join(dir, 'missing', 'inventory.yaml')} does not exist`);
  });
});
