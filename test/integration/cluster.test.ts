import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { VERSION_CACHED_MARK, k3sProbeSections, parseK3sFacts, readK3sVersionCache } from '../../cluster/facts.js';
import { runClusterPhase, type ClusterNodeInput, type ClusterPhaseOptions, type ClusterPhaseResult } from '../../cluster/phase.js';
import { transportOpener } from '../../core/connect.js';
import type { RunEvent } from '../../core/events.js';
import { loadInventory } from '../../core/inventory/parse.js';
import { DEFAULT_K3S_VERSION } from '../../core/inventory/schema.js';
import { RunLog } from '../../core/log.js';
import { nodeStatusFromSteps } from '../../core/report.js';
import { buildProbeScript, parseProbeOutput } from '../../core/remote/probe.js';
import type { Transport } from '../../core/remote/transport.js';
import { failNextInstall, installScript, installerRuns, standinBinary, startInstallerServer, type InstallerServer } from '../lab/k3s-standin/server.js';
import { startLab, type Lab, type LabNode } from '../lab/lab.js';
import { describeLab } from '../lab/skip.js';
import { tempDir } from '../fakes/temp-dir.js';

/**
 * Issue 3's scenarios on the lab: real SSH to simulated Pis, the lab's K3s STAND-IN installer and binary
 * (test/lab/k3s-standin/ — not K3s). The cluster phase is driven directly (probe → runClusterPhase), the
 * way the pipeline runs it after preparing the nodes.
 */
const OTHER_KUBECONFIG = `apiVersion: v1
kind: Config
clusters:
- name: work
  cluster: {server: "https://work.example:6443"}
users:
- name: work-admin
  user: {token: not-ours}
contexts:
- name: work
  context: {cluster: work, user: work-admin}
current-context: work
`;

interface ClusterRun {
  nodes: ClusterNodeInput[];
  result: ClusterPhaseResult;
  events: RunEvent[];
  status: Record<string, string>;
  errors: Record<string, string | undefined>;
  connections: Record<string, number>;
  /** Wall time of runClusterPhase alone (connections and probe excluded). */
  phaseMs: number;
  /** Nodes whose probe took the K3s version from the cache (no `k3s --version`). */
  versionCached: string[];
}

async function clusterRun(
  inventoryFile: string,
  stateDir: string,
  kubeconfigPath: string,
  command: 'up' | 'plan' = 'up',
  consent: Pick<ClusterPhaseOptions, 'replaceNodes' | 'confirmNodeReplacement'> = {},
): Promise<ClusterRun> {
  const { inventory } = loadInventory(inventoryFile);
  const log = new RunLog(stateDir, command);
  const open = transportOpener(inventory, { log });
  const events: RunEvent[] = [];
  const transports: Transport[] = [];
  const cache = readK3sVersionCache(stateDir);
  const versionCached: string[] = [];
  try {
    const nodes = await Promise.all(
      inventory.nodes.map(async (node): Promise<ClusterNodeInput> => {
        const report = { name: node.name, host: node.host, role: node.role, status: 'unchanged' as const, steps: [], warnings: [] };
        const transport = await open(node);
        transports.push(transport);
        const probe = await transport.run(buildProbeScript(k3sProbeSections(cache[node.name])), { sudo: true });
        const sections = parseProbeOutput(probe.stdout);
        if (sections.get('k3s_version') === VERSION_CACHED_MARK) versionCached.push(node.name);
        return { node, transport, report, k3s: parseK3sFacts(sections, cache[node.name]) };
      }),
    );
    const t0 = Date.now();
    const result = await runClusterPhase({
      command,
      inventory,
      stateDir,
      concurrency: 10,
      emit: (e) => events.push(e),
      log,
      nodes,
      kubeconfigPath,
      inventoryPath: inventoryFile,
      readyTimeoutMs: 60_000,
      ...consent,
    });
    const phaseMs = Date.now() - t0;
    return {
      phaseMs,
      versionCached: versionCached.sort(),
      nodes,
      result,
      events,
      status: Object.fromEntries(nodes.map((n) => [n.node.name, nodeStatusFromSteps(n.report.steps, n.report.error)])),
      errors: Object.fromEntries(nodes.map((n) => [n.node.name, n.report.error])),
      connections: Object.fromEntries(nodes.map((n) => [n.node.name, n.transport!.connectionCount])),
    };
  } finally {
    await Promise.all(transports.map((t) => t.close().catch(() => undefined)));
  }
}

async function kubectlNodes(server: LabNode): Promise<string[]> {
  const r = await server.exec('k3s kubectl get nodes -o json');
  expect(r.code, r.stderr).toBe(0);
  const items = (JSON.parse(r.stdout) as { items: { metadata: { name: string }; status: { conditions: { type: string; status: string }[] } }[] }).items;
  return items.map((i) => `${i.metadata.name}:${i.status.conditions.find((c) => c.type === 'Ready')?.status}`).sort();
}

const runs = (lab: Lab) => Object.fromEntries(lab.nodes.map((n) => [n.name, installerRuns(n).length]));

describeLab('cluster on the lab: 1 server + 3 agents, re-runs, a 5th node, failures, kubeconfig', () => {
  let lab: Lab;
  let installer: InstallerServer;
  let dir: string;
  let inventory: (extra?: Record<string, unknown>) => string;
  const kube = () => join(dir, 'kube', 'config');
  const state = () => join(dir, 'state');

  beforeAll(async () => {
    installer = await startInstallerServer();
    lab = await startLab([{ name: 'pi-1' }, { name: 'pi-2' }, { name: 'pi-3' }, { name: 'pi-4' }, { name: 'pi-5' }], { subnet: '127.0.40.' });
    dir = tempDir('cluster-it');
    inventory = (extra = {}) =>
      lab.writeInventory({
        k3s: { installScriptUrl: installer.url },
        network: { metallb: { pools: [{ name: 'lan', addresses: ['127.0.40.200-127.0.40.220'] }] } },
        nodes: [{ name: 'pi-5', omit: true }],
        ...extra,
      });
  });
  afterAll(async () => {
    await lab?.stop();
    await installer?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('from scratch: the server, then the agents; every node Ready; kubeconfig merged beside another context', async () => {
    mkdirSync(join(dir, 'kube'), { recursive: true });
    writeFileSync(kube(), OTHER_KUBECONFIG, { mode: 0o600 });
    const run = await clusterRun(inventory(), state(), kube());
    expect(run.errors).toEqual({ 'pi-1': undefined, 'pi-2': undefined, 'pi-3': undefined, 'pi-4': undefined });
    expect(run.status).toEqual({ 'pi-1': 'changed', 'pi-2': 'changed', 'pi-3': 'changed', 'pi-4': 'changed' });
    expect(runs(lab)).toEqual({ 'pi-1': 1, 'pi-2': 1, 'pi-3': 1, 'pi-4': 1, 'pi-5': 0 });
    const first = installerRuns(lab.node('pi-1'))[0]!;
    for (const name of ['pi-2', 'pi-3', 'pi-4']) expect(installerRuns(lab.node(name))[0]!.at >= first.at).toBe(true);
    expect(await kubectlNodes(lab.node('pi-1'))).toEqual(['pi-1:True', 'pi-2:True', 'pi-3:True', 'pi-4:True']);

    // Token and config are root-only files; the token is the one in the state directory.
    const token = readFileSync(join(state(), 'token'), 'utf8');
    expect(statSync(join(state(), 'token')).mode & 0o777).toBe(0o600);
    for (const node of lab.nodes.slice(0, 4)) {
      expect(readFileSync(node.path('/etc/rancher/k3s/revue-pi-token'), 'utf8')).toBe(token);
      expect(statSync(node.path('/etc/rancher/k3s/revue-pi-token')).mode & 0o777).toBe(0o600);
      expect(statSync(node.path('/etc/rancher/k3s/config.yaml')).mode & 0o777).toBe(0o600);
    }
    expect(JSON.stringify(run.events)).not.toContain(token.trim());

    const doc = yaml.load(readFileSync(kube(), 'utf8')) as {
      'current-context': string;
      contexts: { name: string }[];
      clusters: { name: string; cluster: { server: string } }[];
      users: { name: string; user: unknown }[];
    };
    expect(doc['current-context']).toBe('work');
    expect(doc.contexts.map((c) => c.name)).toEqual(['work', 'lab']);
    expect(doc.clusters.find((c) => c.name === 'lab')!.cluster.server).toBe(`https://${lab.node('pi-1').address}:6443`);
    expect(doc.users[0]).toEqual({ name: 'work-admin', user: { token: 'not-ours' } });
    expect(statSync(kube()).mode & 0o777).toBe(0o600);
  });

  it('a re-run is a no-op: no installer call, no restart, unchanged everywhere, one connection per node', async () => {
    const pids = await Promise.all(lab.nodes.slice(0, 4).map((n) => n.exec('pgrep -f "k3s (server|agent)" | sort | head -1')));
    for (const pid of pids) expect(pid.stdout).toMatch(/^\d+\n$/);
    const before = runs(lab);
    const t0 = Date.now();
    const run = await clusterRun(inventory(), state(), kube());
    const ms = Date.now() - t0;
    expect(run.status).toEqual({ 'pi-1': 'unchanged', 'pi-2': 'unchanged', 'pi-3': 'unchanged', 'pi-4': 'unchanged' });
    expect(runs(lab)).toEqual(before);
    const after = await Promise.all(lab.nodes.slice(0, 4).map((n) => n.exec('pgrep -f "k3s (server|agent)" | sort | head -1')));
    expect(after.map((r) => r.stdout)).toEqual(pids.map((r) => r.stdout));
    expect(Object.values(run.connections)).toEqual([1, 1, 1, 1]);
    expect(run.versionCached).toEqual(['pi-1', 'pi-2', 'pi-3', 'pi-4']);
    expect(run.nodes.map((n) => n.k3s.installedVersion)).toEqual([DEFAULT_K3S_VERSION, DEFAULT_K3S_VERSION, DEFAULT_K3S_VERSION, DEFAULT_K3S_VERSION]);
    console.log(`cluster no-op re-run on 4 lab nodes: ${ms} ms in all (connect + probe + phase), the cluster phase ${run.phaseMs} ms`);
  });

  it('plan shows hand-made drift on one node; up fixes it by restarting K3s there only', async () => {
    const pi3 = lab.node('pi-3');
    const cfg = pi3.path('/etc/rancher/k3s/config.yaml');
    writeFileSync(cfg, readFileSync(cfg, 'utf8').replace('node-name: pi-3', 'node-name: pi-3\nkubelet-arg:\n  - max-pods=50'));
    const plan = await clusterRun(inventory(), state(), kube(), 'plan');
    expect(plan.nodes.map((n) => n.report.steps[0]!.changes)).toEqual([
      [],
      [],
      ['write /etc/rancher/k3s/config.yaml: differs from the inventory in kubelet-arg', 'restart k3s-agent: config.yaml changed'],
      [],
    ]);
    expect(readFileSync(cfg, 'utf8')).toContain('max-pods=50');
    const before = runs(lab);
    const up = await clusterRun(inventory(), state(), kube());
    expect(up.status).toEqual({ 'pi-1': 'unchanged', 'pi-2': 'unchanged', 'pi-3': 'changed', 'pi-4': 'unchanged' });
    expect(runs(lab)).toEqual(before);
    expect(readFileSync(cfg, 'utf8')).not.toContain('max-pods=50');
    expect(await kubectlNodes(lab.node('pi-1'))).toEqual(['pi-1:True', 'pi-2:True', 'pi-3:True', 'pi-4:True']);
  });

  it('adding a 5th node changes only that node', async () => {
    const run = await clusterRun(inventory({ nodes: [] }), state(), kube());
    expect(run.status).toEqual({ 'pi-1': 'unchanged', 'pi-2': 'unchanged', 'pi-3': 'unchanged', 'pi-4': 'unchanged', 'pi-5': 'changed' });
    expect(runs(lab)['pi-5']).toBe(1);
    expect(await kubectlNodes(lab.node('pi-1'))).toEqual(['pi-1:True', 'pi-2:True', 'pi-3:True', 'pi-4:True', 'pi-5:True']);
  });

  it('a re-imaged node rejoining under its name, without --replace-node and no terminal to ask: nothing deleted, it fails naming the command, the others are fine', async () => {
    const pi4 = lab.node('pi-4');
    const wipe = await pi4.exec('/usr/local/bin/k3s-agent-uninstall.sh >/dev/null 2>&1; rm -rf /etc/rancher /var/lib/rancher/k3s; echo done');
    expect(wipe.stdout).toBe('done\n');
    const file = inventory({ nodes: [] });
    const run = await clusterRun(file, state(), kube());
    expect(run.errors).toEqual({
      'pi-1': undefined,
      'pi-2': undefined,
      'pi-3': undefined,
      'pi-4':
        'node pi-4 was re-imaged: K3s rejects its new node password ("Node password rejected") while the cluster still holds its old Node pi-4 and secret kube-system/pi-4.node-password.k3s on pi-1, ' +
        'and up deletes them only with your consent: nothing was deleted and pi-4 was not joined. ' +
        `To delete them and join pi-4, run: revue-pi up -i ${file} --replace-node pi-4 (add --yes where no terminal can ask), or run up at a terminal and type the cluster name when it asks.`,
      'pi-5': undefined,
    });
    expect(run.status['pi-5']).toBe('unchanged');
    // Still there, as before the run.
    expect((await lab.node('pi-1').exec('k3s kubectl -n kube-system get secret pi-4.node-password.k3s -o name')).stdout).toBe(
      'secret/pi-4.node-password.k3s\n',
    );
    expect((await lab.node('pi-1').exec('k3s kubectl get node pi-4 -o name')).stdout).toBe('node/pi-4\n');
  });

  it('a re-imaged node rejoining under its name, with --replace-node pi-4: node password rejected → stale node removed, joined, said so with whose consent', async () => {
    const pi4 = lab.node('pi-4');
    const wipe = await pi4.exec('/usr/local/bin/k3s-agent-uninstall.sh >/dev/null 2>&1; rm -rf /etc/rancher /var/lib/rancher/k3s; echo done');
    expect(wipe.stdout).toBe('done\n');
    const run = await clusterRun(inventory({ nodes: [] }), state(), kube(), 'up', { replaceNodes: ['pi-4'] });
    expect(run.errors['pi-4']).toBeUndefined();
    expect(run.nodes[3]!.report.steps[0]!.changes.join('\n')).toContain(
      'node password rejected (node re-imaged): removed the stale node object pi-4 and secret kube-system/pi-4.node-password.k3s on pi-1, restarted k3s-agent, with your consent (--replace-node pi-4)',
    );
    expect(await kubectlNodes(lab.node('pi-1'))).toEqual(['pi-1:True', 'pi-2:True', 'pi-3:True', 'pi-4:True', 'pi-5:True']);
  });

  it('an installer failing on one agent: the others finish, that node failed with the cause; the next run heals it', async () => {
    await lab.node('pi-5').exec('/usr/local/bin/k3s-agent-uninstall.sh >/dev/null 2>&1; rm -rf /etc/rancher /var/lib/rancher/k3s; true');
    await lab.node('pi-1').exec('k3s kubectl delete node pi-5; k3s kubectl -n kube-system delete secret pi-5.node-password.k3s; true');
    failNextInstall(lab.node('pi-5'));
    const run = await clusterRun(inventory({ nodes: [] }), state(), kube());
    expect(run.errors['pi-5']).toMatch(/^Installing K3s \(agent\) failed on node pi-5 \(exit 1\): .*injected installer failure/s);
    expect(
      Object.entries(run.errors)
        .filter(([, e]) => e !== undefined)
        .map(([n]) => n),
    ).toEqual(['pi-5']);
    const again = await clusterRun(inventory({ nodes: [] }), state(), kube());
    expect(again.errors['pi-5']).toBeUndefined();
    expect(again.status['pi-5']).toBe('changed');
    expect(await kubectlNodes(lab.node('pi-1'))).toContain('pi-5:True');
  });

  it("a state token that is not the cluster's: refused, naming the file and the first server; nodes untouched", async () => {
    const file = join(state(), 'token');
    const good = readFileSync(file, 'utf8');
    writeFileSync(file, 'f'.repeat(64) + '\n', { mode: 0o600 });
    try {
      const run = await clusterRun(inventory({ nodes: [] }), state(), kube());
      expect(run.errors['pi-1']).toMatch(new RegExp(`^the cluster token in ${file} is not the one K3s on first server pi-1 was started with`));
      expect(run.errors['pi-2']).toMatch(/^first server pi-1 failed: the cluster token/);
      expect(readFileSync(lab.node('pi-2').path('/etc/rancher/k3s/revue-pi-token'), 'utf8')).toBe(good);
    } finally {
      writeFileSync(file, good, { mode: 0o600 });
    }
  });

  it('a wrong token on one agent (it fell out of the cluster): rewritten, that agent restarted, Ready again', async () => {
    const pi2 = lab.node('pi-2');
    writeFileSync(pi2.path('/etc/rancher/k3s/revue-pi-token'), 'not-the-cluster-token\n', { mode: 0o600 });
    await pi2.exec('systemctl restart k3s-agent; true');
    // The stand-in agent is refused by the server and gives up: the unit ends up failed.
    let unitState = '';
    for (let i = 0; i < 100 && unitState !== 'failed'; i++) {
      unitState = (await pi2.exec('systemctl is-active k3s-agent')).stdout.trim();
      if (unitState !== 'failed') await new Promise((r) => setTimeout(r, 200));
    }
    expect(unitState).toBe('failed');
    expect((await pi2.exec('journalctl -u k3s-agent -n 5')).stdout).toMatch(/token/i);
    const run = await clusterRun(inventory({ nodes: [] }), state(), kube());
    expect(run.status).toEqual({ 'pi-1': 'unchanged', 'pi-2': 'changed', 'pi-3': 'unchanged', 'pi-4': 'unchanged', 'pi-5': 'unchanged' });
    expect(run.nodes[1]!.report.steps[0]!.changes).toEqual([
      'the cluster token file differs: rewrite it (/etc/rancher/k3s/revue-pi-token)',
      'restart k3s-agent: token changed',
    ]);
    expect(readFileSync(pi2.path('/etc/rancher/k3s/revue-pi-token'), 'utf8')).toBe(readFileSync(join(state(), 'token'), 'utf8'));
    expect(await kubectlNodes(lab.node('pi-1'))).toContain('pi-2:True');
  });

  it('state lost: the token is recovered from the first server and nothing changes', async () => {
    const file = join(state(), 'token');
    const good = readFileSync(file, 'utf8');
    rmSync(file);
    const run = await clusterRun(inventory({ nodes: [] }), state(), kube());
    expect(run.result.token).toBe('recovered');
    expect(readFileSync(file, 'utf8')).toBe(good);
    expect(Object.values(run.status)).toEqual(['unchanged', 'unchanged', 'unchanged', 'unchanged', 'unchanged']);
  });
});

describeLab('cluster on the lab: HA, 3 servers joined one at a time + 2 agents', () => {
  let lab: Lab;
  let installer: InstallerServer;
  let dir: string;

  beforeAll(async () => {
    installer = await startInstallerServer();
    lab = await startLab([{ name: 's1' }, { name: 's2' }, { name: 's3' }, { name: 'a1' }, { name: 'a2' }], { subnet: '127.0.40.' });
    dir = tempDir('cluster-ha');
  });
  afterAll(async () => {
    await lab?.stop();
    await installer?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('first server with cluster-init, the others serially, agents after; all Ready', async () => {
    const file = lab.writeInventory({
      k3s: { installScriptUrl: installer.url },
      network: { metallb: { pools: [{ name: 'lan', addresses: ['127.0.40.200-127.0.40.220'] }] } },
      nodes: [
        { name: 's2', role: 'server' },
        { name: 's3', role: 'server' },
      ],
    });
    const run = await clusterRun(file, join(dir, 'state'), join(dir, 'kubeconfig'));
    expect(run.errors).toEqual({ s1: undefined, s2: undefined, s3: undefined, a1: undefined, a2: undefined });
    expect(readFileSync(lab.node('s1').path('/etc/rancher/k3s/config.yaml'), 'utf8')).toContain('cluster-init: true');
    const ends = (name: string) => installerRuns(lab.node(name))[0]!.at;
    expect(ends('s1') < ends('s2') && ends('s2') < ends('s3')).toBe(true);
    expect(ends('s3') < ends('a1') && ends('s3') < ends('a2')).toBe(true);
    expect(await kubectlNodes(lab.node('s1'))).toEqual(['a1:True', 'a2:True', 's1:True', 's2:True', 's3:True']);
  });
});

describeLab('cluster on the lab: air-gapped (binary, images and installer uploaded, nothing downloaded)', () => {
  let lab: Lab;
  let installer: InstallerServer;
  let dir: string;

  beforeAll(async () => {
    installer = await startInstallerServer();
    lab = await startLab([{ name: 'g1' }, { name: 'g2' }], { subnet: '127.0.40.' });
    dir = tempDir('cluster-airgap');
  });
  afterAll(async () => {
    await lab?.stop();
    await installer?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('installs from the uploaded files with INSTALL_K3S_SKIP_DOWNLOAD=true; the stand-in server sees no request', async () => {
    const files = { binary: join(dir, 'k3s-arm64'), images: join(dir, 'k3s-airgap-images-arm64.tar.zst'), installScript: join(dir, 'install.sh') };
    writeFileSync(files.binary, standinBinary(DEFAULT_K3S_VERSION));
    writeFileSync(files.images, 'lab: not a real images tarball\n');
    writeFileSync(files.installScript, installScript());
    const file = lab.writeInventory({ k3s: { airgap: files }, network: { metallb: { pools: [{ name: 'lan', addresses: ['127.0.40.200-127.0.40.220'] }] } } });
    const run = await clusterRun(file, join(dir, 'state'), join(dir, 'kubeconfig'));
    expect(run.errors).toEqual({ g1: undefined, g2: undefined });
    expect(installer.requests()).toEqual([]);
    expect(readFileSync(lab.node('g2').path('/var/lib/rancher/k3s/agent/images/k3s-airgap-images-arm64.tar.zst'), 'utf8')).toBe(
      'lab: not a real images tarball\n',
    );
    expect(statSync(lab.node('g2').path('/usr/local/bin/k3s')).mode & 0o777).toBe(0o755);
    expect(await kubectlNodes(lab.node('g1'))).toEqual(['g1:True', 'g2:True']);
    const again = await clusterRun(file, join(dir, 'state'), join(dir, 'kubeconfig'));
    expect(again.status).toEqual({ g1: 'unchanged', g2: 'unchanged' });
  });
});
