/**
 * `npm run bench` — wall times of `revue-pi up` on the lab (root + openssh-server), not a test:
 *   A. 1 server + 1 agent from fresh nodes,   B. 1 server + 9 agents from fresh nodes (A and B alternate, twice
 *      each; the ratio is of the medians),
 *   C. a no-op re-run on the last B's 10 nodes, three times (the median counts; SSH connections per node),
 *   D. a no-op re-run on 3 nodes with the workloads on (MetalLB, Traefik config, monitoring, Revue),
 *   E. 1 server + 29 agents from fresh nodes with default flags (no --concurrency): its wall time against A's, with
 *      revue-pi's peak memory and the most SSH connections it held open at once (sampled from /proc/net/tcp).
 * BENCH_SCENARIOS=A,E (say) runs only those letters (C needs B, the E ratio needs A).
 * The K3s installer is the lab's STAND-IN, served from 127.0.0.1 with an emulated download delay, so the
 * figures measure revue-pi's orchestration (parallel joins, round trips), not K3s itself. The lab's nodes and
 * stand-ins share this machine's cores with the CLI: the average number of busy cores is printed per run.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startInstallerServer } from '../test/lab/k3s-standin/server.js';
import { labSupport, startLab } from '../test/lab/lab.js';
import type { RunReport } from '../core/report.js';

const DOWNLOAD_DELAY_MS = Number(process.env.BENCH_DOWNLOAD_DELAY_MS ?? 3000);
const CLI = new URL('../dist/revue-pi.js', import.meta.url).pathname;

function busyJiffies(): { busy: number; total: number } {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = (cpu[3] ?? 0) + (cpu[4] ?? 0);
  const total = cpu.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

function cores(): number {
  return readFileSync('/proc/cpuinfo', 'utf8').match(/^processor/gm)?.length ?? 1;
}

interface Measured {
  wallMs: number;
  busyCores: number;
  report: RunReport;
  /** The most established TCP connections to port 22 of the lab's subnet at once, sampled every 10 ms. */
  maxSshConnections: number;
}

/**
 * Established client connections to port 22 on `subnet` right now. The lab's nodes share this network namespace,
 * and only revue-pi dials them during a run; /proc/net/tcp holds IPv4 addresses as little-endian hex.
 */
function sshConnectionsTo(subnet: string): number {
  const [a, b, c] = subnet.split('.').map(Number) as [number, number, number];
  const hex = (n: number) => n.toString(16).toUpperCase().padStart(2, '0');
  const suffix = `${hex(c)}${hex(b)}${hex(a)}:0016`;
  let count = 0;
  for (const row of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const cols = row.trim().split(/\s+/);
    if (cols[3] === '01' && cols[2]?.length === 13 && cols[2].endsWith(suffix)) count++;
  }
  return count;
}

function runUp(inventory: string, stateDir: string, subnet: string): Promise<Measured> {
  return new Promise((resolve, reject) => {
    let maxSshConnections = 0;
    const sampler = setInterval(() => (maxSshConnections = Math.max(maxSshConnections, sshConnectionsTo(subnet))), 10);
    const before = busyJiffies();
    const started = performance.now();
    const child = spawn(
      process.execPath,
      [CLI, 'up', '-i', inventory, '--json', '--yes', '--state-dir', stateDir, '--kubeconfig', join(stateDir, 'kubeconfig')],
      {
        env: { ...process.env, CI: 'true' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', (error) => {
      clearInterval(sampler);
      reject(error);
    });
    child.on('close', (code) => {
      clearInterval(sampler);
      const wallMs = performance.now() - started;
      const after = busyJiffies();
      const busyCores = ((after.busy - before.busy) / Math.max(1, after.total - before.total)) * cores();
      try {
        const report = JSON.parse(stdout) as RunReport;
        if (code !== 0)
          reject(
            new Error(
              `up exited ${code}: ${JSON.stringify(report.nodes.filter((n) => n.error).map((n) => [n.name, n.error]))} ${report.workloads?.error ?? ''}`,
            ),
          );
        else resolve({ wallMs, busyCores, report, maxSshConnections });
      } catch {
        reject(new Error(`up exited ${code} without a JSON report: ${stderr.slice(-2000)}`));
      }
    });
  });
}

const clusterOnly = (ingressSubnet: string) => ({
  workloads: { revue: false, monitoring: false, kafkaUi: false },
  network: { metallb: { enabled: false, pools: [] }, addresses: {} },
  _subnet: ingressSubnet,
});

function phases(report: RunReport): string {
  return (report.phases ?? []).map((p) => `${p.phase} ${(p.durationMs / 1000).toFixed(2)} s`).join(', ');
}

/** CPU seconds of the whole machine during the run, and of the revue-pi process alone (the rest: the lab's nodes). */
function cpu(m: Measured): { total: number; revuePi: number; lab: number } {
  const total = (m.busyCores * m.wallMs) / 1000;
  const revuePi = (m.report.cpuMs ?? 0) / 1000;
  return { total, revuePi, lab: Math.max(0, total - revuePi) };
}

function line(label: string, m: Measured): string {
  const conns = m.report.nodes.map((n) => n.sshConnections ?? 0);
  const commands = m.report.nodes.map((n) => n.sshCommands ?? 0);
  const c = cpu(m);
  return (
    `${label.padEnd(44)} ${(m.wallMs / 1000).toFixed(2).padStart(7)} s   busy cores ${m.busyCores.toFixed(2)}   SSH connections/node ${Math.min(...conns)}–${Math.max(...conns)}, commands/node ${Math.min(...commands)}–${Math.max(...commands)}   (${phases(m.report)})\n` +
    `${''.padEnd(44)} CPU ${c.total.toFixed(2)} s: revue-pi ${c.revuePi.toFixed(2)} s, the lab's nodes (sshd, sudo, shells, K3s stand-ins) ${c.lab.toFixed(2)} s; revue-pi's peak memory ${m.report.peakMemoryMiB ?? '?'} MiB, at most ${m.maxSshConnections} SSH connections open at once`
  );
}

async function scenario(names: string[], subnet: string, extra: Record<string, unknown>, runs: string[]): Promise<Measured[]> {
  const lab = await startLab(
    names.map((name) => ({ name })),
    { subnet },
  );
  const stateDir = mkdtempSync(join(tmpdir(), 'revue-pi-bench-'));
  try {
    const { _subnet, ...rest } = extra as { _subnet?: string };
    void _subnet;
    const inventory = lab.writeInventory({ k3s: { installScriptUrl: installer.url }, ...rest });
    const results: Measured[] = [];
    for (const label of runs) {
      const measured = await runUp(inventory, stateDir, subnet);
      results.push(measured);
      console.log(line(`${label} (${names.length} nodes)`, measured));
    }
    return results;
  } finally {
    await lab.stop();
    // It holds the cluster's token and kubeconfig.
    rmSync(stateDir, { recursive: true, force: true });
  }
}

const support = labSupport();
if (!support.ok) {
  console.error(`npm run bench needs the lab: ${support.reason}`);
  process.exit(2);
}
const installer = await startInstallerServer({ delayMs: DOWNLOAD_DELAY_MS });
/**
 * What one process start costs on this machine now (ms, the median of 100 `sh -c true`). Every figure here is
 * dominated by process starts on shared cores, and that cost drifts on a virtual machine: printed so runs compare.
 */
function spawnCostMs(): number {
  const times: number[] = [];
  for (let i = 0; i < 100; i++) {
    const t0 = performance.now();
    spawnSync('/bin/sh', ['-c', 'true']);
    times.push(performance.now() - t0);
  }
  return times.sort((x, y) => x - y)[50]!;
}

const median = (xs: number[]) => {
  const sorted = [...xs].sort((x, y) => x - y);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

try {
  console.log(`revue-pi bench — lab of simulated Pis, K3s installer STAND-IN with a ${DOWNLOAD_DELAY_MS} ms emulated download, ${new Date().toISOString()}`);
  const spawnBefore = spawnCostMs();
  console.log(`one process start (sh -c true): ${spawnBefore.toFixed(1)} ms`);
  const names = (n: number) => Array.from({ length: n }, (_, i) => `pi-${i + 1}`);
  const wanted = new Set((process.env.BENCH_SCENARIOS ?? 'A,B,C,D,E').split(',').map((x) => x.trim().toUpperCase()));
  // A and B alternate, twice each, on fresh labs: the machine's speed drifts within minutes, and a ratio of two
  // single runs taken a minute apart measures that drift as much as revue-pi.
  const as: Measured[] = [];
  const bs: Measured[] = [];
  let noops: Measured[] = [];
  for (const round of [1, 2]) {
    if (wanted.has('A')) {
      const [a] = await scenario(names(2), '127.0.90.', clusterOnly('127.0.90.'), [`A${round}. fresh up, 1 server + 1 agent`]);
      as.push(a!);
    }
    if (wanted.has('B')) {
      const [b, ...rest] = await scenario(names(10), '127.0.91.', clusterOnly('127.0.91.'), [
        `B${round}. fresh up, 1 server + 9 agents`,
        ...(round === 2 && wanted.has('C') ? [1, 2, 3].map((i) => `C. no-op re-run ${i}/3, 1 server + 9 agents`) : []),
      ]);
      bs.push(b!);
      noops = rest;
    }
  }
  // The median of three no-op runs: one run can catch the machine busy.
  const c = noops.length === 3 ? [...noops].sort((x, y) => x.wallMs - y.wallMs)[1]! : undefined;
  const d = wanted.has('D')
    ? (
        await scenario(
          names(3),
          '127.0.92.',
          { network: { metallb: { pools: [{ name: 'lan', addresses: ['127.0.92.200-127.0.92.220'] }] }, addresses: { ingress: '127.0.92.200' } } },
          ['fresh up with workloads', 'D. no-op re-run with workloads'],
        )
      )[1]
    : undefined;
  // 30 nodes with default flags: the default must not queue nodes behind a fixed limit.
  const e = wanted.has('E')
    ? (await scenario(names(30), '127.0.94.', clusterOnly('127.0.94.'), ['E. fresh up, 1 server + 29 agents, default flags']))[0]
    : undefined;
  const spawnAfter = spawnCostMs();
  const wall = (ms: Measured[]) => median(ms.map((m) => m.wallMs));
  const clusterPhase = (ms: Measured[]) => median(ms.map((m) => m.report.phases?.find((p) => p.phase === 'cluster')?.durationMs ?? NaN));
  const cpuTotal = (ms: Measured[]) => median(ms.map((m) => cpu(m).total));
  const cpuLab = (ms: Measured[]) => median(ms.map((m) => cpu(m).lab));
  console.log('');
  console.log(`one process start:           ${spawnBefore.toFixed(1)} ms before, ${spawnAfter.toFixed(1)} ms after`);
  if (as.length > 0 && bs.length > 0) {
    console.log(
      `1+9 vs 1+1, whole up:        ${(wall(bs) / wall(as)).toFixed(2)}×   (target ≤ 1.3×; medians of ${as.length}: A ${(wall(as) / 1000).toFixed(2)} s, B ${(wall(bs) / 1000).toFixed(2)} s; per round ${as.map((a, i) => (bs[i]!.wallMs / a.wallMs).toFixed(2)).join(', ')}×)`,
    );
    // The cluster phase starts when the probe ends and overlaps the prepare phase (a node joins once it is prepared).
    console.log(`1+9 vs 1+1, prepare+cluster: ${(clusterPhase(bs) / clusterPhase(as)).toFixed(2)}×`);
    console.log(
      `CPU of A / B:                ${cpuTotal(as).toFixed(1)} s / ${cpuTotal(bs).toFixed(1)} s on ${cores()} cores, of which the lab's nodes ${cpuLab(as).toFixed(1)} s / ${cpuLab(bs).toFixed(1)} s`,
    );
  }
  if (c)
    console.log(
      `no-op re-run on 10 nodes:    ${(c.wallMs / 1000).toFixed(2)} s median of 3   (target ≤ 1.5 s, one SSH connection per node); CPU ${cpu(c).total.toFixed(2)} s, revue-pi ${cpu(c).revuePi.toFixed(2)} s`,
    );
  if (d) console.log(`no-op re-run with workloads: ${(d.wallMs / 1000).toFixed(2)} s on 3 nodes`);
  if (e)
    console.log(
      `1+29 vs 1+1, default flags:  ${as.length > 0 ? `${(e.wallMs / wall(as)).toFixed(2)}×` : '(no A run)'}   (target ≤ 1.3×; E ${(e.wallMs / 1000).toFixed(2)} s); revue-pi's peak memory ${e.report.peakMemoryMiB ?? '?'} MiB, at most ${e.maxSshConnections} SSH connections open at once`,
    );
} finally {
  await installer.stop();
}
