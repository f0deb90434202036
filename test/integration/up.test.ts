import { readFileSync, readdirSync, existsSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeLab } from '../lab/skip.js';
import { runCli } from './cli.js';
import { useLabCluster } from './lab-cluster.js';
import type { RunReport } from '../../core/report.js';
import { tempDir } from '../fakes/temp-dir.js';

const FLAGS = 'cgroup_memory=1 cgroup_enable=memory';

describeLab('revue-pi up/plan on three simulated Pis (boot config, reboots, re-runs, failures)', () => {
  // pi-2 boots as Raspberry Pi Imager leaves a Pi: named raspberrypi, which up changes.
  const suite = useLabCluster([{ name: 'pi-1' }, { name: 'pi-2', hostname: 'raspberrypi' }, { name: 'pi-3' }], '127.0.11.', {
    network: { metallb: { pools: [{ name: 'lan', addresses: ['127.0.11.200-127.0.11.220'] }] }, addresses: { ingress: '127.0.11.200' } },
  });

  const up = (...extra: string[]) => suite.up(...extra);
  const report = (stdout: string) => JSON.parse(stdout) as RunReport;

  it('up changes boot config and the hostname once, reboots each node once, and the memory cgroup is active after', async () => {
    const pi2 = suite.lab.node('pi-2');
    expect((await pi2.exec('hostname')).stdout.trim()).toBe('raspberrypi');
    const result = await up();
    expect(result.code, result.stderr + result.stdout).toBe(0);
    const run = report(result.stdout);
    expect(run.nodes.map((n) => [n.name, n.status, n.rebooted])).toEqual([
      ['pi-1', 'changed', true],
      ['pi-2', 'changed', true],
      ['pi-3', 'changed', true],
    ]);
    for (const node of suite.lab.nodes) {
      expect(node.rebootCount()).toBe(1);
      const cmdline = readFileSync(node.path('/boot/firmware/cmdline.txt'), 'utf8');
      expect(cmdline.split(FLAGS).length - 1).toBe(1);
      expect(cmdline.endsWith(`${FLAGS}\n`)).toBe(true);
      expect(cmdline.trimEnd().includes('\n')).toBe(false);
      expect(existsSync(node.path('/boot/firmware/cmdline.txt.revue-pi.bak'))).toBe(true);
      expect(readFileSync(node.path('/boot/firmware/config.txt'), 'utf8')).toMatch(/\nkernel=kernel8\.img\n$/);
      expect(readFileSync(node.path('/etc/hostname'), 'utf8')).toBe(`${node.name}\n`);
      expect(readFileSync(node.path('/etc/hosts'), 'utf8')).toMatch(new RegExp(`^127\\.0\\.1\\.1\\s+${node.name}$`, 'm'));
      expect(readFileSync(node.path('/etc/hosts'), 'utf8')).not.toContain('raspberrypi');
      const live = await node.exec('hostname; grep -w memory /sys/fs/cgroup/cgroup.controllers >/dev/null && echo cgroup-ok; getconf PAGESIZE');
      expect(live.stdout.split('\n').slice(0, 3)).toEqual([node.name, 'cgroup-ok', '4096']);
    }
    // One SSH connection per node for the run, plus the one after its reboot.
    expect(run.nodes.map((n) => n.sshConnections)).toEqual([2, 2, 2]);
    const renamed = run.nodes.find((n) => n.name === 'pi-2')!.steps.find((s) => s.step === 'boot-config')!.changes;
    expect(renamed).toEqual(
      expect.arrayContaining(['write /etc/hostname: hostname raspberrypi → pi-2', 'apply hostname pi-2 now', 'write /etc/hosts: map 127.0.1.1 to pi-2']),
    );
    // The page size each node's new boot has, with that boot's id: the next probe of the same boot needs no getconf.
    const pageSizes = JSON.parse(readFileSync(join(suite.stateDir, 'page-sizes.json'), 'utf8')) as Record<string, { bootId: string; pageSize: number }>;
    for (const node of suite.lab.nodes) {
      const bootId = (await node.exec('cat /proc/sys/kernel/random/boot_id')).stdout.trim();
      expect(pageSizes[node.name]).toEqual({ bootId, pageSize: 4096 });
    }
    // The process's own peak memory, for the benchmark: a Node.js process holds tens of MiB, not gigabytes.
    expect(run.peakMemoryMiB).toBeGreaterThan(20);
    expect(run.peakMemoryMiB).toBeLessThan(1024);
  });

  it('a second up changes nothing and reboots nothing', async () => {
    const sudoBefore = suite.lab.nodes.map((n) => n.sudoRuns());
    const result = await up();
    expect(result.code, result.stderr).toBe(0);
    const nodes = report(result.stdout).nodes;
    expect(nodes.map((n) => n.status)).toEqual(['unchanged', 'unchanged', 'unchanged']);
    expect(suite.lab.nodes.map((n) => n.rebootCount())).toEqual([1, 1, 1]);
    // One connection and one command per node: the first server's probe also answers the cluster and workloads checks.
    expect(nodes.map((n) => [n.sshConnections, n.sshCommands])).toEqual([
      [1, 1],
      [1, 1],
      [1, 1],
    ]);
    expect(report(result.stdout).workloads?.fastPath).toEqual({ taken: true });
    // The agents' root-only files are as the install left them (recorded then): probed without sudo already.
    expect(suite.lab.nodes.map((n, i) => n.sudoRuns() - sudoBefore[i]!)).toEqual([1, 0, 0]);
  });

  it('plan after that reports no changes', async () => {
    const result = await runCli(['plan', '-i', suite.inventory, '--state-dir', suite.stateDir, '--kubeconfig', join(suite.stateDir, 'kubeconfig')]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('\n0 nodes to change, 3 unchanged.\nNext: nothing to do;');
    expect(suite.lab.nodes.map((n) => n.rebootCount())).toEqual([1, 1, 1]);
  });

  it('a converged re-run probes the agents without sudo; a config.yaml edited by hand is still read, as root, and fixed', async () => {
    const sudoRuns = () => suite.lab.nodes.map((n) => n.sudoRuns());
    const before = sudoRuns();
    const again = await up();
    expect(again.code, again.stderr).toBe(0);
    expect(report(again.stdout).nodes.map((n) => n.status)).toEqual(['unchanged', 'unchanged', 'unchanged']);
    // The first server's probe reads the kubeconfig and asks the API (root); the agents' files are as last read.
    expect(sudoRuns().map((n, i) => n - before[i]!)).toEqual([1, 0, 0]);

    const cfg = suite.lab.node('pi-3').path('/etc/rancher/k3s/config.yaml');
    writeFileSync(cfg, readFileSync(cfg, 'utf8').replace('node-name: pi-3', 'node-name: pi-3\nkubelet-arg:\n  - max-pods=50'));
    const edited = sudoRuns();
    const fixed = await up();
    expect(fixed.code, fixed.stderr).toBe(0);
    expect(report(fixed.stdout).nodes.map((n) => n.status)).toEqual(['unchanged', 'unchanged', 'changed']);
    expect(readFileSync(cfg, 'utf8')).not.toContain('max-pods=50');
    // pi-3: its probe's sudo for the changed file, then the write and restart; pi-2 still none. (The first server
    // also runs the checks that follow a changed node.)
    expect(
      sudoRuns()
        .map((n, i) => n - edited[i]!)
        .slice(1),
    ).toEqual([0, 2]);
  });

  it('refuses a node whose host key changed while the others complete (exit 1)', async () => {
    await suite.lab.node('pi-2').regenerateHostKeys();
    const result = await up();
    expect(result.code).toBe(1);
    const nodes = report(result.stdout).nodes;
    expect(nodes.map((n) => n.status)).toEqual(['unchanged', 'failed', 'unchanged']);
    expect(nodes[1]!.error).toMatch(/host key of node pi-2 \(127\.0\.11\.\d+:22\) has changed: expected SHA256:\S+, got SHA256:\S+/);
  });

  it('reports a node that is down and completes the others (exit 1)', async () => {
    const knownHosts = join(suite.lab.rootDir, 'known_hosts');
    // Forget pi-2's old key so only the power state matters here.
    const { writeFileSync } = await import('node:fs');
    if (existsSync(knownHosts))
      writeFileSync(
        knownHosts,
        readFileSync(knownHosts, 'utf8')
          .split('\n')
          .filter((l) => !l.includes(suite.lab.node('pi-2').address))
          .join('\n'),
      );
    await suite.lab.node('pi-3').powerOff();
    try {
      const started = Date.now();
      const result = await up();
      expect(result.code).toBe(1);
      const nodes = report(result.stdout).nodes;
      expect(nodes.map((n) => n.status)).toEqual(['unchanged', 'unchanged', 'failed']);
      expect(nodes[2]!.error).toMatch(/pi-3.*127\.0\.11\.\d+:22.*ECONNREFUSED/);
      expect(Date.now() - started).toBeLessThan(60_000);
    } finally {
      await suite.lab.node('pi-3').powerOn();
    }
  });

  it('writes one run log per run in the state directory', () => {
    const logs = readdirSync(join(suite.stateDir, 'logs'));
    expect(logs.filter((f) => f.startsWith('up-')).length).toBeGreaterThanOrEqual(3);
  });
});

describeLab('a bad inventory opens no connection', () => {
  let listener: Server;
  let connections = 0;
  beforeAll(async () => {
    listener = createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => listener.listen(22, '127.0.12.9', resolve));
  });
  afterAll(() => new Promise<void>((resolve) => listener.close(() => resolve())));

  it('exits 2 with file:line:column and never dials the node', async () => {
    const dir = tempDir('bad');
    const file = join(dir, 'inventory.yaml');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(file, 'cluster:\n  name: lab\nnodes:\n  - name: pi-1\n    host: 127.0.12.9\n    role: master\n');
    const result = await runCli(['up', '-i', file, '--state-dir', dir]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${file}:6:`);
    expect(result.stderr).toMatch(/role/);
    expect(connections).toBe(0);
  });
});
