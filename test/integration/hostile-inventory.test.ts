import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { describeLab } from '../lab/skip.js';
import { runCli } from './cli.js';
import { CLUSTER_ONLY, useLabCluster } from './lab-cluster.js';

/**
 * Hostile inventory values on a real lab node: each would have reached the node's sshd or a systemd unit file run as
 * root at every boot. Now the schema refuses them: exit 2, the field and its line, and the node never sees a
 * connection (its sshd logs every one, LogLevel VERBOSE) — nor a file.
 */

const UNIT = '/etc/systemd/system/revue-pi-wifi-promisc.service';
const PWNED = '/tmp/revue-pi-pwned';

describeLab('hostile inventory values never reach a lab node', () => {
  const suite = useLabCluster([{ name: 'pi-1', wifi: true }], '127.0.91.', { ...CLUSTER_ONLY, pi: { wifiPromiscuous: true } });
  const node = () => suite.lab.node('pi-1');
  const sshdLog = () => readFileSync(join(node().rootDir, 'lab', 'console.log'), 'utf8');

  /** An inventory like the suite's, with `extra` merged in, under another name. */
  const inventoryWith = (name: string, extra: Record<string, unknown>) =>
    suite.lab.writeInventory({ ...CLUSTER_ONLY, pi: { wifiPromiscuous: true }, k3s: { installScriptUrl: suite.installer.url }, ...extra }, name);

  const run = (command: string, inventory: string) =>
    runCli(
      [command, '-i', inventory, '--json', '--yes', '--state-dir', suite.stateDir, '--kubeconfig', join(suite.stateDir, 'kubeconfig')].filter(
        (a) => command === 'up' || a !== '--yes',
      ),
    );

  it.each([
    ['a line break adding ExecStartPre= to the unit', 'wlan0 promisc on\nExecStartPre=/bin/touch /tmp/revue-pi-pwned\n#'],
    ['a semicolon and a second command', 'wlan0; /bin/touch /tmp/revue-pi-pwned'],
  ])('wifiInterface with %s: up refuses it before connecting, no unit file is written', async (_what, wifiInterface) => {
    const inventory = inventoryWith(`wifi-${wifiInterface.length}.yaml`, { nodes: [{ name: 'pi-1', wifiInterface }] });
    const before = sshdLog();
    const r = await run('up', inventory);
    expect(r.code, r.stderr + r.stdout).toBe(2);
    const out = JSON.parse(r.stdout) as { error: { issues: { path: string; line: number; message: string }[] } };
    expect(out.error.issues).toEqual([
      expect.objectContaining({ path: 'nodes[0].wifiInterface', message: expect.stringMatching(/^wifiInterface ".*" (holds|is)/) }),
    ]);
    expect(out.error.issues[0]!.line).toBeGreaterThan(1);
    expect(sshdLog()).toBe(before);
    expect(existsSync(node().path(UNIT))).toBe(false);
    expect(existsSync(node().path(PWNED))).toBe(false);
  });

  it("ssh.user with a command in it: plan refuses it before connecting, the node's sshd sees nothing", async () => {
    const inventory = inventoryWith('user.yaml', { ssh: { user: 'pi;touch /tmp/revue-pi-pwned' } });
    const before = sshdLog();
    const r = await run('plan', inventory);
    expect(r.code, r.stderr + r.stdout).toBe(2);
    const out = JSON.parse(r.stdout) as { error: { issues: { path: string; message: string }[] } };
    expect(out.error.issues).toEqual([expect.objectContaining({ path: 'ssh.user', message: expect.stringMatching(/is not a user name/) })]);
    expect(sshdLog()).toBe(before);
  });

  // The control: the same node and suite with a real interface name get the unit, byte for byte — so the checks
  // above, that the unit is absent, would have seen one.
  it("with wifiInterface: wlan0, up writes the unit as systemd reads it, and the node's wlan0 is promiscuous", async () => {
    const inventory = inventoryWith('wlan0.yaml', { nodes: [{ name: 'pi-1', wifiInterface: 'wlan0' }] });
    const r = await run('up', inventory);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const unit = readFileSync(node().path(UNIT), 'utf8');
    expect(unit).toContain('ExecStart=/usr/sbin/ip link set wlan0 promisc on\n');
    expect(unit.split('\n').filter((l) => l.startsWith('Exec'))).toEqual(['ExecStart=/usr/sbin/ip link set wlan0 promisc on']);
    expect((await node().exec('ip link show wlan0')).stdout).toContain('PROMISC');
  });
});
