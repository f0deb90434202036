/**
 * `revue-pi plan` reaching the lab's Pis through a real ssh_config: node hosts are aliases, pi-2 is reached only
 * through pi-1 (ProxyJump), user, key and known_hosts come from the file, a Match it cannot evaluate is warned
 * about with its file and line, and `--verbose` says where each setting came from.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RunReport } from '../../core/report.js';
import { parseKnownHosts } from '../../core/remote/known-hosts.js';
import { startLab, type Lab } from '../lab/lab.js';
import { describeLab } from '../lab/skip.js';
import { runCli } from './cli.js';
import { tempDir } from '../fakes/temp-dir.js';

describeLab('ssh_config: aliases and ProxyJump through a lab node', () => {
  let lab: Lab;
  let dir: string;
  let home: string;
  let inventory: string;
  let sshConfig: string;
  let userKnownHosts: string;
  let toolKnownHosts: string;
  let agent: ChildProcess | undefined;

  beforeAll(async () => {
    lab = await startLab([{ name: 'pi-1' }, { name: 'pi-2' }], { subnet: '127.0.27.' });
    const [gate, inner] = [lab.node('pi-1'), lab.node('pi-2')];
    dir = tempDir('sshcfg-it');
    home = join(dir, 'home');
    mkdirSync(home);
    // pi-2's name is known on pi-1 only: this computer cannot resolve it, so reaching pi-2 proves the jump.
    appendFileSync(gate.path('/etc/hosts'), `${inner.address} pi-2-lan\n`);
    userKnownHosts = join(dir, 'user_known_hosts');
    writeFileSync(userKnownHosts, `pi-2-lan ${inner.hostKey()}\n`);
    toolKnownHosts = join(dir, 'revue-pi_known_hosts');
    sshConfig = join(dir, 'ssh_config');
    writeFileSync(
      sshConfig,
      [
        '# as an operator would write it',
        'Host gate',
        `  HostName ${gate.address}`,
        'Host inner',
        '  HostName pi-2-lan',
        '  ProxyJump gate',
        `  UserKnownHostsFile ${userKnownHosts}`,
        'Match exec "test -e /nonexistent"',
        '  Port 2',
        'Host *',
        `  User ${lab.user}`,
        `  IdentityFile ${lab.keyPath}`,
        '  IdentitiesOnly yes',
        '',
      ].join('\n'),
    );
    // The inventory names the aliases and leaves user, port and key to the file.
    const doc = yaml.load(
      readFileSync(
        lab.writeInventory({ workloads: { revue: false, monitoring: false, kafkaUi: false }, network: { metallb: { enabled: false, pools: [] } } }),
        'utf8',
      ),
    ) as {
      ssh: Record<string, unknown>;
      nodes: { name: string; host: string }[];
    };
    doc.ssh = { useAgent: false, knownHostsFile: toolKnownHosts, connectRetries: 0 };
    doc.nodes[0]!.host = 'gate';
    doc.nodes[1]!.host = 'inner';
    inventory = join(dir, 'inventory.yaml');
    writeFileSync(inventory, yaml.dump(doc));
  });

  afterAll(async () => {
    if (agent && agent.exitCode === null) agent.kill();
    await lab?.stop();
  });

  const plan = (...args: string[]) =>
    runCli(['plan', '-i', inventory, '--state-dir', join(dir, 'state'), '--kubeconfig', join(dir, 'kubeconfig'), ...args], {
      env: { HOME: home, REVUE_PI_SSH_CONFIG: sshConfig, SSH_AUTH_SOCK: '' },
    });

  it("pi-2-lan is a name of pi-1's /etc/hosts only, not of this computer's (no DNS is asked: tests stay on 127.0.0.0/8)", () => {
    expect(readFileSync('/etc/hosts', 'utf8')).not.toMatch(/\bpi-2-lan\b/);
    expect(readFileSync(lab.node('pi-1').path('/etc/hosts'), 'utf8')).toMatch(/\bpi-2-lan\b/);
  });

  it("plan probes both nodes: the aliases resolved, pi-2 through pi-1, keys checked against the config's known_hosts", async () => {
    const loginsBefore = lab.node('pi-1').sshLogins();
    const result = await plan('--json');
    expect(result.code, result.stderr + result.stdout).toBe(0);
    const report = JSON.parse(result.stdout) as RunReport;
    expect(report.nodes.map((n) => [n.name, n.host, n.status, n.facts?.arch])).toEqual([
      ['pi-1', lab.node('pi-1').address, 'changed', 'aarch64'],
      ['pi-2', 'pi-2-lan', 'changed', 'aarch64'],
    ]);
    // pi-1 was logged in to twice: as a node, and as pi-2's jump host.
    expect(lab.node('pi-1').sshLogins() - loginsBefore).toBe(2);
    // pi-2's key was found in the config's UserKnownHostsFile; only pi-1 was trusted on first use.
    expect(parseKnownHosts(readFileSync(toolKnownHosts, 'utf8')).map((e) => e.hosts)).toEqual([lab.node('pi-1').address]);
    expect(readdirSync(home)).toEqual([]);
  });

  it('--verbose says where each setting came from; the Match it cannot evaluate is a warning with file and line', async () => {
    const result = await plan('--verbose');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(
      `  ! ${sshConfig}:8: Match exec is not supported by revue-pi, so this Match block is not applied to node pi-1 (host gate).`,
    );
    const origins = result.stderr.slice(result.stderr.indexOf('pi-2: SSH settings')).split('\n').slice(0, 8);
    expect(origins).toEqual([
      'pi-2: SSH settings',
      `    host pi-2-lan — ${sshConfig}:5 (HostName, in Host inner) for inner`,
      `    user ${lab.user} — ${sshConfig}:11 (User, in Host *)`,
      '    port 22 — default',
      `    key ${lab.keyPath} — ${sshConfig}:12 (IdentityFile, in Host *)`,
      '    ssh-agent no — inventory ssh.useAgent',
      `    identities only yes — ${sshConfig}:13 (IdentitiesOnly, in Host *)`,
      `    known_hosts read ${userKnownHosts} — ${sshConfig}:7 (UserKnownHostsFile, in Host inner)`,
    ]);
    expect(result.stderr).toContain(
      `    jump host ${lab.user}@${lab.node('pi-1').address}:22 — ${sshConfig}:6 (ProxyJump, in Host inner); gate → ${lab.node('pi-1').address} from ${sshConfig}:3 (HostName, in Host gate)`,
    );
  });

  it('the inventory wins over the file: a wrong user set there is used, and login fails naming it', async () => {
    const text = readFileSync(inventory, 'utf8');
    writeFileSync(join(dir, 'wrong-user.yaml'), text.replace('ssh:\n', 'ssh:\n  user: nobody-here\n'));
    const result = await runCli(['plan', '-i', join(dir, 'wrong-user.yaml'), '--json', '--state-dir', join(dir, 'state')], {
      env: { HOME: home, REVUE_PI_SSH_CONFIG: sshConfig, SSH_AUTH_SOCK: '' },
    });
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout) as RunReport;
    expect(report.nodes[0]!.error).toMatch(/^Could not log in to node pi-1 at 127\.0\.27\.2:22 as nobody-here:/);
  });

  it("IdentitiesOnly: an agent full of other keys cannot use up the server's MaxAuthTries before the IdentityFile", async () => {
    // A real ssh-agent holding seven keys pi-1 does not accept (sshd's MaxAuthTries is 6).
    const sock = join(dir, 'agent.sock');
    agent = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
    for (let i = 0; i < 50 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 100));
    for (let i = 0; i < 7; i++) {
      const key = join(dir, `other_${i}`);
      expect(spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]).status).toBe(0);
      expect(spawnSync('ssh-add', ['-q', key], { env: { ...process.env, SSH_AUTH_SOCK: sock } }).status).toBe(0);
    }
    const doc = yaml.load(readFileSync(inventory, 'utf8')) as { ssh: Record<string, unknown>; nodes: unknown[] };
    delete doc.ssh.useAgent;
    doc.nodes = doc.nodes.slice(0, 1);
    const onlyGate = join(dir, 'agent-inventory.yaml');
    writeFileSync(onlyGate, yaml.dump(doc));
    const withConfig = (identitiesOnly: string) => {
      const file = join(dir, `ssh_config_${identitiesOnly}`);
      writeFileSync(
        file,
        `Host gate\n  HostName ${lab.node('pi-1').address}\n  User ${lab.user}\n  IdentityFile ${lab.keyPath}\n  IdentitiesOnly ${identitiesOnly}\n`,
      );
      return runCli(['plan', '-i', onlyGate, '--json', '--state-dir', join(dir, 'state')], {
        env: { HOME: home, REVUE_PI_SSH_CONFIG: file, SSH_AUTH_SOCK: sock },
      });
    };
    const flooded = await withConfig('no');
    expect(flooded.code).toBe(1);
    expect((JSON.parse(flooded.stdout) as RunReport).nodes[0]!.error).toMatch(/^Could not log in to node pi-1 .*\(ssh-agent, key /);
    const only = await withConfig('yes');
    expect(only.code, only.stdout).toBe(0);
    expect((JSON.parse(only.stdout) as RunReport).nodes[0]!.facts?.arch).toBe('aarch64');
  });
});
