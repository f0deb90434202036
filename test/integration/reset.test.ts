import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, expect, it } from 'vitest';
import type { ResetResult } from '../../pipeline/reset.js';
import { installScript } from '../lab/k3s-standin/server.js';
import { describeLab } from '../lab/skip.js';
import { CLI, runCli } from './cli.js';
import { CLUSTER_ONLY, useLabCluster } from './lab-cluster.js';
import { hasTmux, ShellTerminal } from './terminal.js';

/**
 * `revue-pi reset` on the lab: a server (s1), an agent (a1) and an agent that also has the server unit installed (x1:
 * k3s-agent.service and k3s.service, as on a Pi that was once a server and then joined as an agent). The K3s STAND-IN's
 * uninstall scripts are the real ones' steps (test/lab/k3s-standin/README.md, "Uninstall and killall"): each stops
 * half-way while another k3s*.service is installed. Tests run in order: refusals, dry run, an unreachable node, the
 * reset, then a new `up` on the same inventory.
 */
const SUBNET = '127.0.170.';
const NODES = ['s1', 'a1', 'x1'];

const terminals: ShellTerminal[] = [];
afterEach(() => {
  for (const t of terminals.splice(0)) t.stop();
});

describeLab('revue-pi reset on a lab cluster of a server, an agent and a node with both units', () => {
  const suite = useLabCluster([{ name: 's1' }, { name: 'a1' }, { name: 'x1' }], SUBNET, {
    ...CLUSTER_ONLY,
    nodes: [
      { name: 'a1', role: 'agent' },
      { name: 'x1', role: 'agent' },
    ],
  });
  const kubeconfig = () => join(suite.stateDir, 'kubeconfig');
  const args = (...extra: string[]) => ['reset', '-i', suite.inventory, '--state-dir', suite.stateDir, '--kubeconfig', kubeconfig(), ...extra];
  const reset = (...extra: string[]) => runCli(args(...extra), { timeoutMs: 300_000 });
  const cmdline = (node: string) => readFileSync(suite.lab.node(node).path('/boot/firmware/cmdline.txt'), 'utf8');
  const config = (node: string) => readFileSync(suite.lab.node(node).path('/boot/firmware/config.txt'), 'utf8');
  const exists = (node: string, path: string) => existsSync(suite.lab.node(node).path(path));
  const units = (node: string) => readdirSync(suite.lab.node(node).path('/etc/systemd/system')).filter((f) => /^k3s.*\.service$/.test(f));
  const logins = () => NODES.map((n) => suite.lab.node(n).sshLogins());
  const bootFiles: Record<string, string[]> = {};

  beforeAll(async () => {
    for (const n of NODES) bootFiles[n] = [cmdline(n), config(n)];
    const up = await suite.up();
    expect(up.code, up.stderr + up.stdout.slice(-2000)).toBe(0);
    // x1 gets the server unit too (installed, not started), from the same stand-in installer up used.
    writeFileSync(suite.lab.node('x1').path('/tmp/install.sh'), installScript());
    const both = await suite.lab.node('x1').exec('INSTALL_K3S_SKIP_DOWNLOAD=true INSTALL_K3S_SKIP_START=true sh /tmp/install.sh');
    expect(both.code, both.stderr).toBe(0);
    expect(units('x1').sort()).toEqual(['k3s-agent.service', 'k3s.service']);
    // A backup the reset must keep (this single-server cluster runs SQLite, so `revue-pi backup` cannot take one).
    mkdirSync(join(suite.stateDir, 'backups', '20261206T100000Z-s1'), { recursive: true });
    writeFileSync(join(suite.stateDir, 'backups', '20261206T100000Z-s1', 'backup.json'), '{}\n');
  }, 600_000);

  it('refuses before contacting anything: no terminal and no --yes, --yes alone, --yes with another name (exit 2)', async () => {
    const before = logins();
    const none = await reset();
    expect(none.code).toBe(2);
    expect(none.stderr).toContain(
      'reset destroys cluster lab and all its data, and asks for its name to be typed, but its standard input is not a terminal: pass --yes lab',
    );
    const bare = await reset('--yes');
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain('--yes alone does not reset a cluster');
    const wrong = await reset('--yes', 'lab2', '--json');
    expect(wrong.code).toBe(2);
    expect(JSON.parse(wrong.stdout)).toMatchObject({ ok: false, exitCode: 2, error: { message: expect.stringContaining('--yes names cluster "lab2"') } });
    expect(logins()).toEqual(before);
    expect(units('s1')).toEqual(['k3s.service']);
  });

  it('at a terminal, a wrong name typed changes nothing', async () => {
    expect(hasTmux, 'tmux gives a real terminal: apt-get install -y tmux').toBe(true);
    const quoted = [process.execPath, CLI, ...args()].map((a) => `'${a}'`).join(' ');
    const t = ShellTerminal.start(`{ ${quoted}; echo $? >"$STATUS"; } 2>&1`, { cwd: suite.stateDir, env: { HOME: suite.stateDir } });
    terminals.push(t);
    const screen = await t.waitFor('To reset it, type the cluster name (lab):', 90_000);
    expect(screen).toContain('runs: /usr/local/bin/k3s-agent-uninstall.sh, then /usr/local/bin/k3s-uninstall.sh');
    t.type('lab-old');
    t.press('Enter');
    expect(await t.status()).toBe(1);
    expect(t.screen()).toContain('the cluster name was not typed: nothing was changed.');
    expect(units('x1').sort()).toEqual(['k3s-agent.service', 'k3s.service']);
    expect(readFileSync(kubeconfig(), 'utf8')).toContain('name: lab');
  });

  it('a dry run lists, per node, what is removed and kept, and changes nothing', async () => {
    const r = await reset('--dry-run', '--boot', '--json');
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout) as ResetResult;
    expect(result.plan!.waves).toEqual([
      { what: 'agents', nodes: ['a1', 'x1'] },
      { what: 'first server', nodes: ['s1'] },
    ]);
    const x1 = result.plan!.nodes.find((n) => n.name === 'x1')!;
    expect(x1.scripts).toEqual(['/usr/local/bin/k3s-agent-uninstall.sh', '/usr/local/bin/k3s-uninstall.sh']);
    expect(x1.boot).toEqual([
      'take cgroup_memory=1 cgroup_enable=memory out of /boot/firmware/cmdline.txt',
      "take revue-pi's kernel=kernel8.img line out of /boot/firmware/config.txt",
    ]);
    expect(result.plan!.local.kubeconfig.removes).toEqual(['context "lab"', 'cluster "lab"', 'user "lab"']);
    expect(result.plan!.local.state.removes).toContain('token');
    expect(result.plan!.local.state.keeps[0]).toMatch(/backups \(1 backup: revue-pi restore needs them; reset never deletes them\)$/);
    const text = await reset('--dry-run');
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain('Order: agents together (a1, x1), then first server s1.\n');
    expect(text.stdout).toContain(
      '  x1 (agent, units k3s + k3s-agent):\n    runs: /usr/local/bin/k3s-agent-uninstall.sh, then /usr/local/bin/k3s-uninstall.sh\n',
    );
    expect(text.stdout).toMatch(/\n {4}keeps: \S+\/backups \(1 backup: revue-pi restore needs them; reset never deletes them\)\n/);
    expect(text.stdout).toMatch(/\(dry run: nothing was changed\)\n$/);
    expect(units('a1')).toEqual(['k3s-agent.service']);
  });

  it('an unreachable agent: the others are reset, exit 1 names it, and the kubeconfig is kept until a re-run finishes', async () => {
    await suite.lab.node('a1').powerOff();
    const r = await reset('--yes', 'lab', '--json');
    expect(r.code, r.stderr).toBe(1);
    const result = JSON.parse(r.stdout) as ResetResult;
    expect(result.unreachable).toEqual(['a1']);
    expect(result.nodes.map((n) => [n.name, n.outcome])).toEqual([
      ['s1', 'reset'],
      ['a1', 'unreachable'],
      ['x1', 'reset'],
    ]);
    expect(units('x1')).toEqual([]);
    expect(readFileSync(kubeconfig(), 'utf8')).toContain('name: lab');
    await suite.lab.node('a1').powerOn();
    await suite.lab.node('a1').waitUntilUp();
  });

  it('the re-run resets what is left (--boot too): every node clean, the context gone, backups kept; then up builds a new cluster', async () => {
    const r = await reset('--yes', 'lab', '--boot');
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toContain('✓ s1: K3s was not installed');
    expect(r.stdout).toMatch(/✓ a1: ran \/usr\/local\/bin\/k3s-agent-uninstall\.sh; no K3s unit, binary or data left/);
    expect(r.stdout).toContain('Cluster lab is reset');
    expect(r.stdout).toContain('it takes effect when they reboot');
    for (const n of NODES) {
      expect(units(n), n).toEqual([]);
      for (const path of [
        '/var/lib/rancher/k3s',
        '/etc/rancher/k3s',
        '/usr/local/bin/k3s',
        '/usr/local/bin/k3s-killall.sh',
        '/usr/local/bin/k3s-uninstall.sh',
        '/usr/local/bin/k3s-agent-uninstall.sh',
      ])
        expect(exists(n, path), `${n}:${path}`).toBe(false);
      expect(exists(n, '/etc/rancher/node/password'), n).toBe(true);
      // --boot: the boot files as they were before the first up.
      expect([cmdline(n), config(n)], n).toEqual(bootFiles[n]);
    }
    const kc = readFileSync(kubeconfig(), 'utf8');
    expect(kc).not.toMatch(/name: lab\b/);
    expect(existsSync(join(suite.stateDir, 'token'))).toBe(false);
    expect(existsSync(join(suite.stateDir, 'backups', '20261206T100000Z-s1', 'backup.json'))).toBe(true);

    const up = await suite.up();
    expect(up.code, up.stderr + up.stdout.slice(-2000)).toBe(0);
    const nodes = await suite.lab.node('s1').exec('k3s kubectl get nodes -o name');
    expect(nodes.stdout.trim().split('\n').sort()).toEqual(['node/a1', 'node/s1', 'node/x1']);
    expect(readFileSync(kubeconfig(), 'utf8')).toMatch(/name: lab\b/);
  });

  it('a node whose uninstall script is gone: reset names what remains on it and fails there, the others are reset', async () => {
    await suite.lab.node('a1').exec('rm /usr/local/bin/k3s-agent-uninstall.sh');
    const r = await reset('--yes', 'lab', '--json');
    expect(r.code, r.stderr).toBe(1);
    const result = JSON.parse(r.stdout) as ResetResult;
    expect(result.plan!.warnings[0]).toMatch(/^a1 has K3s files but no uninstall script/);
    expect(result.nodes.find((n) => n.name === 'a1')).toMatchObject({
      outcome: 'failed',
      remains: ['/etc/systemd/system/k3s-agent.service', '/usr/local/bin/k3s', '/var/lib/rancher/k3s', '/etc/rancher/k3s', '/usr/local/bin/k3s-killall.sh'],
    });
    expect(result.nodes.filter((n) => n.name !== 'a1').map((n) => n.outcome)).toEqual(['reset', 'reset']);
    expect(units('s1')).toEqual([]);
    expect(readFileSync(kubeconfig(), 'utf8')).toMatch(/name: lab\b/);
  });
});
