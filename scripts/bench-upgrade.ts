/**
 * `npm run bench`, the upgrade part — a rolling `revue-pi upgrade` of 3 servers + 7 agents on the lab (subnet 127.0.93.),
 * not a test. While it runs, the cluster's API is probed every 200 ms: a `get nodes` (which needs the etcd leader and a
 * quorum) sent (a) to the server the merged kubeconfig names, and (b) to the first server that answers, as a client-side
 * load balancer (K3s's agents) does. Printed: the wall time, each node's own upgrade time, the ratio of the wall time to
 * one node's, and the probes that failed (the goal for (b) is zero). The installer and K3s are the lab's STAND-INs
 * (a restarted etcd member is Unhealthy for K3S_STANDIN_ETCD_START_MS), so the figures measure revue-pi's orchestration.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { UpgradeResult } from '../cluster/day-two/upgrade-run.js';
import { startInstallerServer } from '../test/lab/k3s-standin/server.js';
import { labSupport, startLab, type Lab } from '../test/lab/lab.js';

const SUBNET = '127.0.93.';
const OLD = 'v1.35.2+k3s1';
const NEW = 'v1.36.4+k3s1';
const DOWNLOAD_DELAY_MS = Number(process.env.BENCH_DOWNLOAD_DELAY_MS ?? 3000);
const PROBE_MS = 200;
const CLI = new URL('../dist/revue-pi.js', import.meta.url).pathname;
const SERVERS = ['s1', 's2', 's3'];
const AGENTS = Array.from({ length: 7 }, (_, i) => `a${i + 1}`);

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string; wallMs: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, CI: 'true' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, wallMs: performance.now() - started }));
  });
}

/** One `get nodes` through a stand-in server's API (plain HTTP there; it answers 503 without an etcd quorum). */
function apiAnswers(host: string, adminKey: string): Promise<boolean> {
  return new Promise((resolve) => {
    const body = JSON.stringify({ args: ['get', 'nodes', '-o', 'name'], files: [] });
    const req = request(
      {
        host,
        port: 6443,
        path: '/standin/kubectl',
        method: 'POST',
        timeout: 1000,
        headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
      },
      (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => {
          try {
            resolve(res.statusCode === 200 && (JSON.parse(text) as { code: number }).code === 0);
          } catch {
            resolve(false);
          }
        });
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end(body);
  });
}

interface ProbeTally {
  probes: number;
  failed: number;
  /** Longest run of consecutive failed probes, in ms. */
  longestMs: number;
}

/** Probes every PROBE_MS until stopped: the kubeconfig's server alone, and any server (first that answers). */
function startProbes(lab: Lab, kubeconfigHost: string, adminKey: string): { stop: () => Promise<{ kubeconfig: ProbeTally; anyServer: ProbeTally }> } {
  const tally = (): ProbeTally & { run: number } => ({ probes: 0, failed: 0, longestMs: 0, run: 0 });
  const kc = tally();
  const any = tally();
  const note = (t: ReturnType<typeof tally>, ok: boolean) => {
    t.probes++;
    if (ok) t.run = 0;
    else {
      t.failed++;
      t.run++;
      t.longestMs = Math.max(t.longestMs, t.run * PROBE_MS);
    }
  };
  let running = true;
  const loop = (async () => {
    while (running) {
      const tick = Date.now();
      const [viaKubeconfig, ...others] = await Promise.all([
        apiAnswers(kubeconfigHost, adminKey),
        ...SERVERS.map((s) => apiAnswers(lab.node(s).address, adminKey)),
      ]);
      note(kc, viaKubeconfig);
      note(any, others.some(Boolean));
      await new Promise((r) => setTimeout(r, Math.max(0, PROBE_MS - (Date.now() - tick))));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      const strip = ({ run, ...t }: ReturnType<typeof tally>): ProbeTally => (void run, t);
      return { kubeconfig: strip(kc), anyServer: strip(any) };
    },
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

const support = labSupport();
if (!support.ok) {
  console.error(`npm run bench needs the lab: ${support.reason}`);
  process.exit(2);
}
const installer = await startInstallerServer({ delayMs: DOWNLOAD_DELAY_MS });
const lab = await startLab(
  [...SERVERS, ...AGENTS].map((name) => ({ name })),
  { subnet: SUBNET },
);
const stateDir = mkdtempSync(join(tmpdir(), 'revue-pi-bench-upgrade-'));
try {
  console.log(`\nrevue-pi bench — rolling upgrade ${OLD} → ${NEW} of 3 servers + 7 agents (lab STAND-IN, ${DOWNLOAD_DELAY_MS} ms emulated download)`);
  const cluster = {
    workloads: { revue: false, monitoring: false, kafkaUi: false },
    network: { metallb: { enabled: false, pools: [] }, addresses: {} },
    nodes: SERVERS.slice(1).map((name) => ({ name, role: 'server' })),
  };
  const oldInventory = lab.writeInventory({ ...cluster, k3s: { version: OLD, installScriptUrl: installer.url } }, 'inventory-old.yaml');
  const newInventory = lab.writeInventory({ ...cluster, k3s: { version: NEW, installScriptUrl: installer.url } }, 'inventory-new.yaml');
  const kubeconfig = join(stateDir, 'kubeconfig');
  const common = ['--state-dir', stateDir, '--kubeconfig', kubeconfig];
  const up = await cli(['up', '-i', oldInventory, '--yes', '--json', ...common]);
  if (up.code !== 0) throw new Error(`up exited ${up.code}: ${up.stdout.slice(-2000)}`);
  // The joined servers become etcd voters a few seconds after joining; upgrade refuses while one is a learner.
  for (let i = 0; i < 120; i++) {
    const plan = await cli(['upgrade', '-i', newInventory, '--dry-run', '--json', ...common]);
    if (plan.code === 0) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  console.log((await cli(['upgrade', '-i', newInventory, '--dry-run', ...common])).stdout.trimEnd());
  const kubeconfigHost = /server: https:\/\/([^:]+):6443/.exec(readFileSync(kubeconfig, 'utf8'))![1]!;
  const adminKey = readFileSync(lab.node('s1').path('/var/lib/rancher/k3s/server/tls/client-admin.key'), 'utf8').trim();
  const probes = startProbes(lab, kubeconfigHost, adminKey);
  const upgrade = await cli(['upgrade', '-i', newInventory, '--yes', '--json', ...common]);
  const tallies = await probes.stop();
  const result = JSON.parse(upgrade.stdout) as UpgradeResult;
  if (upgrade.code !== 0) throw new Error(`upgrade exited ${upgrade.code}: ${result.error ?? upgrade.stderr.slice(-2000)}`);
  const ms = (role: string) => result.nodes.filter((n) => n.role === role).map((n) => n.ms ?? NaN);
  const servers = ms('server');
  const agents = ms('agent');
  const firstNodeStart = Math.min(...result.nodes.map((n) => Date.parse(n.startedAt!)));
  const lastNodeEnd = Math.max(...result.nodes.map((n) => Date.parse(n.finishedAt!)));
  const s = (x: number) => `${(x / 1000).toFixed(1)} s`;
  console.log(
    `upgrade wall time:           ${s(upgrade.wallMs)} (nodes from first cordon to last uncordon ${s(lastNodeEnd - firstNodeStart)}; before them: reading the cluster and the etcd backup)`,
  );
  console.log(
    `one node's upgrade:          servers ${servers.map(s).join(', ')} (median ${s(median(servers))}); agents ${agents.map(s).join(', ')} (median ${s(median(agents))}), 2 at a time`,
  );
  console.log(
    `wall time / one node:        ${(upgrade.wallMs / median(servers)).toFixed(2)}× a server's median (10 nodes; strictly sequential would be ${((servers.reduce((a, b) => a + b, 0) + agents.reduce((a, b) => a + b, 0)) / median(servers)).toFixed(2)}×)`,
  );
  console.log(
    `API unavailable (any server):  ${tallies.anyServer.failed} of ${tallies.anyServer.probes} probes every ${PROBE_MS} ms failed (goal 0); longest outage ${tallies.anyServer.longestMs} ms`,
  );
  console.log(
    `API via the kubeconfig's server (${kubeconfigHost}): ${tallies.kubeconfig.failed} of ${tallies.kubeconfig.probes} probes failed; longest outage ${tallies.kubeconfig.longestMs} ms (that server restarts too; no cluster.apiEndpoint in this inventory)`,
  );
} finally {
  await lab.stop();
  await installer.stop();
  // It holds the cluster's token, kubeconfig and etcd backups.
  rmSync(stateDir, { recursive: true, force: true });
}
