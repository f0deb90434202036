/**
 * MetalLB's addresses against the nodes' probed subnets, on the lab: the lab's nodes see this machine's routing
 * table, whose loopback 127.0.0.0/8 holds the lab's pools; a pool in TEST-NET-2 (198.51.100.0/24) is on no node's
 * network. plan warns, up refuses before touching anything, up --force goes ahead.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import type { RunReport } from '../../core/report.js';
import { describeLab } from '../lab/skip.js';
import { runCli } from './cli.js';
import { useLabCluster } from './lab-cluster.js';

const OUTSIDE = '198.51.100.200-198.51.100.210';

describeLab("MetalLB addresses outside every node's subnet", () => {
  const suite = useLabCluster([{ name: 'pi-1' }], '127.0.28.', {
    workloads: { revue: false, monitoring: false, kafkaUi: false },
    network: {
      metallb: {
        pools: [
          { name: 'lan', addresses: ['127.0.28.200-127.0.28.210'] },
          { name: 'far', addresses: [OUTSIDE] },
        ],
      },
    },
  });
  const warning = `network.metallb.pools[1].addresses[0] (${OUTSIDE}, pool far) is outside every node's subnet`;

  it('plan warns, in its text and its JSON', async () => {
    const text = await runCli(['plan', '-i', suite.inventory, '--state-dir', suite.stateDir, '--kubeconfig', join(suite.stateDir, 'kubeconfig')]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout.replace(/\n\s+/g, ' ')).toContain(`! warning: ${warning}`);
    const json = await runCli(['plan', '-i', suite.inventory, '--json', '--state-dir', suite.stateDir]);
    const report = JSON.parse(json.stdout) as RunReport;
    expect(report.addressWarnings).toHaveLength(1);
    expect(report.addressWarnings![0]).toContain(warning);
    // The lab's own pool is on the node's loopback subnet: not warned about.
    expect(report.addressWarnings!.join('\n')).not.toContain('127.0.28.200');
  });

  it('up refuses without --force and changes nothing; with --force it goes ahead', async () => {
    const node = suite.lab.node('pi-1');
    const cmdline = readFileSync(node.path('/boot/firmware/cmdline.txt'), 'utf8');
    const refused = await suite.up();
    expect(refused.code).toBe(1);
    const report = JSON.parse(refused.stdout) as RunReport;
    expect(report.nodes[0]!.error).toMatch(/^not changed: an address of network\.metallb or network\.addresses lies outside every node's subnet/);
    expect(report.addressWarnings![0]).toContain(warning);
    expect(node.rebootCount()).toBe(0);
    expect(readFileSync(node.path('/boot/firmware/cmdline.txt'), 'utf8')).toBe(cmdline);
    const forced = await suite.up('--force');
    expect(forced.code, forced.stderr + forced.stdout).toBe(0);
    expect(node.rebootCount()).toBe(1);
  });
});
