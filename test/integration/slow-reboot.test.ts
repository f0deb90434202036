import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { installerRuns } from '../lab/k3s-standin/server.js';
import { describeLab } from '../lab/skip.js';
import { CLUSTER_ONLY, useLabCluster } from './lab-cluster.js';
import type { RunReport } from '../../core/report.js';

/**
 * A node that reboots slowly does not hold the others up: each node goes on to K3s once it is itself prepared. Here
 * pi-3 takes longer to come back than the inventory allows, so it fails while pi-1 (the first server) and pi-2 join;
 * the next `up`, once it is back, joins it without another reboot.
 */
describeLab('up with one node rebooting slower than the others (lab, K3s installer STAND-IN)', () => {
  const suite = useLabCluster([{ name: 'pi-1' }, { name: 'pi-2' }, { name: 'pi-3', bootDelayMs: 16_000 }], '127.0.32.', {
    ...CLUSTER_ONLY,
    pi: { rebootTimeoutSeconds: 10 },
  });
  const up = () => suite.up();

  it('the first server installs while the slow node is still down; that node fails alone, with its reboot timeout', async () => {
    const result = await up();
    expect(result.code, result.stderr).toBe(1);
    const run = JSON.parse(result.stdout) as RunReport;
    expect(run.nodes.map((n) => [n.name, n.status])).toEqual([
      ['pi-1', 'changed'],
      ['pi-2', 'changed'],
      ['pi-3', 'failed'],
    ]);
    const slow = run.nodes[2]!;
    expect(slow.error).toMatch(/^Node pi-3 at 127\.0\.32\.\d+:22 did not answer SSH again within [\d.]+ s .*raise pi\.rebootTimeoutSeconds in the inventory/);
    // Its failure is on its boot-config step; it never reached the cluster phase.
    expect(slow.steps.map((s) => `${s.phase}/${s.step}:${s.status}`)).toEqual(['prepare/boot-config:failed']);
    expect(installerRuns(suite.lab.node('pi-3'))).toEqual([]);
    // In the run's log, pi-1's K3s install comes before pi-3's timeout: it did not wait for the slowest node.
    const log = readFileSync(run.logFile!, 'utf8');
    const installAt = log.indexOf('[pi-1] install K3s server');
    const timeoutAt = log.indexOf('[pi-3] prepare failed');
    expect(installAt).toBeGreaterThan(0);
    expect(timeoutAt).toBeGreaterThan(installAt);
    // The first server went first: the others' boot files were written after its own command had returned.
    const firstRebooting = log.indexOf('[pi-1] rebooting:');
    for (const other of ['pi-2', 'pi-3']) expect(log.indexOf(`[${other}] write /boot/firmware/cmdline.txt`)).toBeGreaterThan(firstRebooting);
    expect(firstRebooting).toBeGreaterThan(0);
  });

  it('once the slow node is back, the next up joins it without another reboot', async () => {
    await suite.lab.node('pi-3').waitUntilUp();
    const result = await up();
    expect(result.code, result.stderr + result.stdout).toBe(0);
    const run = JSON.parse(result.stdout) as RunReport;
    expect(run.nodes.map((n) => [n.name, n.status, n.rebooted ?? false])).toEqual([
      ['pi-1', 'unchanged', false],
      ['pi-2', 'unchanged', false],
      ['pi-3', 'changed', false],
    ]);
    expect(suite.lab.node('pi-3').rebootCount()).toBe(1);
    expect(installerRuns(suite.lab.node('pi-3'))).toHaveLength(1);
  });
});
