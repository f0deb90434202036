import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { setHelmInstall, startInstallerServer, type InstallerServer } from '../lab/k3s-standin/server.js';
import { startLab, type Lab } from '../lab/lab.js';
import { describeLab } from '../lab/skip.js';
import { runCli } from './cli.js';
import type { StatusReport } from '../../cli/status/report.js';
import { DEFAULT_K3S_VERSION } from '../../core/inventory/schema.js';
import { tempDir } from '../fakes/temp-dir.js';

/**
 * `revue-pi status` on three simulated Pis after a real `up` against the lab's K3s STAND-IN. The stand-in runs no
 * controllers besides faking workload readiness and standing in for K3s's helm-controller (test/lab/k3s-standin/
 * README.md): every HelmChart gets its helm-install-<chart> Job, and the Prometheus and Grafana releases run the
 * workloads workloads/monitoring/contract.ts names — but K3s's Traefik chart installs nothing (no Traefik
 * Deployment/Service), no MetalLB hands out LoadBalancer addresses and no HPA controller runs. One test stands in for
 * those controllers by writing the objects they would (see `simulateControllers`), so status's reading of them is
 * checked too. The last ones make the stand-in's chart installs go wrong, and check that up and status agree.
 */
const SUBNET = '127.0.80.';
const INGRESS = `${SUBNET}200`;

describeLab('revue-pi status on three simulated Pis (table and --json, after up)', () => {
  let lab: Lab;
  let installer: InstallerServer;
  let inventory: string;
  let stateDir: string;
  /** The first up's --json report. */
  let firstUp: { logFile?: string; workloads?: { error?: string } };

  const status = (...extra: string[]) => runCli(['status', '-i', inventory, '--state-dir', stateDir, ...extra], { timeoutMs: 90_000 });
  const parse = (result: { stdout: string; stderr: string }) => {
    expect(result.stdout.trim(), `status printed no JSON; stderr: ${result.stderr}`).not.toBe('');
    return JSON.parse(result.stdout) as StatusReport;
  };

  beforeAll(async () => {
    installer = await startInstallerServer();
    lab = await startLab([{ name: 'pi-1' }, { name: 'pi-2' }, { name: 'pi-3' }], { subnet: SUBNET });
    inventory = lab.writeInventory({
      k3s: { installScriptUrl: installer.url },
      network: { metallb: { pools: [{ name: 'lan', addresses: [`${SUBNET}200-${SUBNET}220`] }] }, addresses: { ingress: INGRESS } },
    });
    stateDir = tempDir('status');
    // Prometheus's pods take a while to be ready after its chart is installed: up has to wait for them.
    setHelmInstall(lab.node('pi-1'), 'kube-system/prometheus', { readyMs: 2500 });
    const up = await upCli();
    expect(up.code, up.stderr + up.stdout.slice(-2000)).toBe(0);
    firstUp = JSON.parse(up.stdout) as typeof firstUp;
    setHelmInstall(lab.node('pi-1'), 'kube-system/prometheus', undefined);
  }, 600_000);
  const upCli = () => runCli(['up', '-i', inventory, '--yes', '--json', '--state-dir', stateDir, '--kubeconfig', join(stateDir, 'kc')], { timeoutMs: 400_000 });

  afterAll(async () => {
    await lab?.stop();
    await installer?.stop();
  });

  it("up waited for the Prometheus release's workloads (the stand-in made them ready 2.5 s after the install Job finished)", () => {
    expect(firstUp.workloads?.error).toBeUndefined();
    const log = readFileSync(firstUp.logFile!, 'utf8');
    const waiting = /\[pi-1\] workloads monitoring: waiting for .*Deployment monitoring\/prometheus-server \(0 of 1 replicas ready\)/.exec(log);
    const done = /\[pi-1\] workloads monitoring: \d+ objects: \d+ created/.exec(log);
    expect(waiting, log).not.toBeNull();
    expect(done!.index).toBeGreaterThan(waiting!.index);
  });

  it('--json: every node reachable and Ready with its facts, the pools, the workloads; the monitoring releases ready, Traefik missing in the stand-in (exit 1)', async () => {
    const started = Date.now();
    const result = await status('--json');
    const elapsed = Date.now() - started;
    const report = parse(result);
    expect(report.cluster).toBe('lab');
    expect(report.source).toEqual({ via: 'ssh', server: 'pi-1' });
    expect(report.nodes.map((n) => [n.name, n.role, n.address, n.reachable, n.ready, n.k3sRunning, n.memoryCgroup, n.pageSize, n.arch])).toEqual([
      ['pi-1', 'server', `${SUBNET}2`, true, 'Ready', true, true, 4096, 'aarch64'],
      ['pi-2', 'agent', `${SUBNET}3`, true, 'Ready', true, true, 4096, 'aarch64'],
      ['pi-3', 'agent', `${SUBNET}4`, true, 'Ready', true, true, 4096, 'aarch64'],
    ]);
    for (const n of report.nodes) {
      expect(n.k3sVersion).toBe(DEFAULT_K3S_VERSION);
      expect(n.model).toBe('Raspberry Pi 5 Model B Rev 1.0');
      expect(n.error).toBeNull();
    }
    // The pools up applied: the inventory's pool minus the fixed ingress address, which gets a pool of its own.
    expect(report.metallb.poolsFrom).toBe('cluster');
    expect(report.metallb.pools.map((p) => p.name).sort()).toEqual(['lan', 'revue-pi-fixed']);
    expect(report.metallb.pools.find((p) => p.name === 'revue-pi-fixed')).toMatchObject({ autoAssign: false });
    expect(report.metallb.pools.find((p) => p.name === 'revue-pi-fixed')!.addresses.join(' ')).toContain(INGRESS);
    expect(report.access.ingressAddress).toBe(INGRESS);
    expect(report.access.urls.map((u) => u.name)).toEqual(['Revue', 'Grafana', 'Prometheus', 'Traefik dashboard', 'Kafka UI']);

    // Every workload up rendered is there and ready (the stand-in fakes readiness); K3s's Traefik is not.
    const names = report.workloads.map((w) => `${w.namespace}/${w.kind}/${w.name}`);
    expect(names).toContain('revue/Deployment/revue-frontend');
    // Prometheus and Grafana come from HelmCharts: installed by the stand-in's helm-controller, their releases run the
    // workloads the contract names, ready — what up waited for, so status agrees.
    expect(report.charts.map((c) => [`${c.namespace}/${c.name}`, c.targetNamespace, c.job, c.state])).toEqual([
      ['kube-system/grafana', 'monitoring', 'helm-install-grafana', 'installed'],
      ['kube-system/prometheus', 'monitoring', 'helm-install-prometheus', 'installed'],
    ]);
    expect(report.workloads.filter((w) => w.namespace === 'monitoring').map((w) => [w.kind, w.name, `${w.ready}/${w.desired}`, w.state])).toEqual([
      ['Deployment', 'grafana', '1/1', 'ready'],
      ['Deployment', 'prometheus-kube-state-metrics', '1/1', 'ready'],
      ['DaemonSet', 'prometheus-prometheus-node-exporter', '3/3', 'ready'],
      ['Deployment', 'prometheus-server', '1/1', 'ready'],
    ]);
    expect(names).toContain('metallb-system/DaemonSet/speaker');
    expect(report.workloads.filter((w) => w.state !== 'ready').map((w) => [w.namespace, w.kind, w.name, w.state])).toEqual([
      ['kube-system', 'Deployment', 'traefik', 'missing'],
    ]);
    expect(report.workloads.find((w) => w.name === 'speaker')).toMatchObject({ ready: 3, desired: 3, state: 'ready' });
    expect(report.workloads.length).toBeGreaterThan(20);

    // The HPAs are read (no HPA controller in the stand-in: no replicas or CPU reading yet).
    expect(report.hpas.length).toBeGreaterThan(0);
    expect(report.hpas.find((h) => h.name === 'revue-frontend-hpa')).toMatchObject({
      namespace: 'revue',
      target: 'Deployment/revue-frontend',
      minReplicas: 1,
      maxReplicas: 5,
      cpuTarget: 60,
    });
    expect(report.hpas.find((h) => h.name === 'revue-frontend-hpa')!.cpuCurrent).toBeUndefined();

    // Without MetalLB's controller no LoadBalancer Service gets an address: each is named.
    expect(report.metallb.services.map((s) => [`${s.namespace}/${s.name}`, s.assigned])).toEqual([
      ['revue/revue-kafka-1', []],
      ['revue/revue-kafka-2', []],
      ['revue/revue-media-server', []],
    ]);
    // Nothing about monitoring: only K3s's Traefik (whose chart the stand-in installs nothing for) and MetalLB.
    expect(report.problems).toHaveLength(4);
    expect(report.problems[0]).toMatch(/^Deployment kube-system\/traefik \(K3s's bundled Traefik\) is missing/);
    expect(report.problems.slice(1)).toEqual(
      ['revue-kafka-1', 'revue-kafka-2', 'revue-media-server'].map(
        (s) => `Service revue/${s} has no address from MetalLB yet; see kubectl -n revue describe service ${s}.`,
      ),
    );
    expect(report.ok).toBe(false);
    expect(result.code).toBe(1);
    expect(elapsed).toBeLessThan(20_000);
  });

  it('a chart whose install Job is gone is reported as never installed (exit 1), and is back once K3s re-creates the Job', async () => {
    const server = lab.node('pi-1');
    const kubectl = async (args: string) => {
      const r = await server.exec(`/usr/local/bin/k3s kubectl ${args}`);
      expect(r.code, r.stderr + r.stdout).toBe(0);
      return r.stdout;
    };
    await kubectl('delete jobs.batch helm-install-grafana -n kube-system');
    try {
      const result = await status('--json');
      expect(result.code).toBe(1);
      const report = parse(result);
      expect(report.charts.map((c) => [c.name, c.state])).toEqual([
        ['grafana', 'missing'],
        ['prometheus', 'installed'],
      ]);
      // (The release it installed earlier still runs: deleting a Job uninstalls nothing.)
      expect(report.problems).toContain(
        'HelmChart kube-system/grafana was never installed: K3s has no install Job kube-system/helm-install-grafana for it; run revue-pi up, and check that K3s does not run with --disable-helm-controller.',
      );
      const table = await status();
      expect(table.stdout).toMatch(/ {2}kube-system\/grafana +monitoring +helm-install-grafana +NO JOB: never installed\n/);
      expect(table.stdout).toMatch(/ {2}kube-system\/prometheus +monitoring +helm-install-prometheus +installed\n/);
    } finally {
      // The helm-controller creates a chart's Job again when it syncs the chart; the stand-in does so when the chart is applied.
      const chart = await kubectl('get helmcharts.helm.cattle.io grafana -n kube-system -o json');
      await server.exec(`/usr/local/bin/k3s kubectl apply -f - <<'EOF'\n${chart}\nEOF`);
    }
    expect(parse(await status('--json')).charts.map((c) => c.state)).toEqual(['installed', 'installed']);
  });

  it('table: with the controllers simulated, every section is shown, aligned within 100 columns (exit 0)', async () => {
    await simulateControllers(lab);
    const result = await status();
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const lines = result.stdout.split('\n');
    for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(100);
    expect(lines[0]).toBe('Cluster lab: 3 nodes, read over SSH from pi-1 (k3s kubectl).');
    const header = lines.find((l) => l.startsWith('  NAME  '))!;
    expect(header).toMatch(/^ {2}NAME +ROLE +ADDRESS +K3S +READY +MEM CGROUP +PAGE +MODEL$/);
    for (const [name, role, host] of [
      ['pi-1', 'server', 2],
      ['pi-2', 'agent', 3],
      ['pi-3', 'agent', 4],
    ] as const) {
      const row = lines.find((l) => l.startsWith(`  ${name} `))!;
      expect(row.split(/ {2,}/).slice(1)).toEqual([name, role, `${SUBNET}${host}`, DEFAULT_K3S_VERSION, 'Ready', 'on', '4K', 'Pi 5 Model B Rev 1.0']);
      // Columns line up under the header.
      expect(row.indexOf(`${SUBNET}${host}`)).toBe(header.indexOf('ADDRESS'));
      expect(row.indexOf('Pi 5 Model B')).toBe(header.indexOf('MODEL'));
    }
    expect(result.stdout).toMatch(new RegExp(`kube-system/traefik +${INGRESS} +${INGRESS}`));
    expect(result.stdout).toMatch(/kube-system +Deployment +traefik +1\/1/);
    expect(result.stdout).toMatch(/monitoring +Deployment +grafana +1\/1/);
    expect(result.stdout).toMatch(/monitoring +DaemonSet +prometheus-prometheus-node-exporter +3\/3/);
    expect(result.stdout).toMatch(/ {2}HELMCHART +RELEASE IN +INSTALL JOB +STATE\n {2}kube-system\/grafana +monitoring +helm-install-grafana +installed\n/);
    expect(result.stdout).toMatch(/revue\/revue-kafka-1 +any +127\.0\.80\.2\d\d/);
    expect(result.stdout).toMatch(/revue +revue-frontend-hpa +Deployment\/revue-frontend +2\/3 +1-5 +75%\/60%/);
    expect(result.stdout).toContain(`Ingress address: ${INGRESS} (handed out to Traefik)`);
    expect(result.stdout).toMatch(/Revue +http:\/\/frontend\.revue\.local\//);
    expect(result.stdout).toContain('All good: every node reachable and Ready, every workload ready.');

    const report = parse(await status('--json'));
    expect(report.ok).toBe(true);
    expect(report.metallb.services).toContainEqual({ namespace: 'kube-system', name: 'traefik', requested: [INGRESS], assigned: [INGRESS] });
    expect(report.hpas.find((h) => h.name === 'revue-frontend-hpa')).toMatchObject({ currentReplicas: 2, desiredReplicas: 3, cpuCurrent: 75, cpuTarget: 60 });

    // The /etc/hosts lines: Traefik's names (each Revue service also as revue-<service>, what its web UI calls) and
    // revue-media-server on the address MetalLB handed the media server; then the stock Revue logins.
    const mediaAddress = report.metallb.services.find((x) => x.name === 'revue-media-server')!.assigned[0]!;
    expect(report.access.hostsEntries.at(-1)).toMatchObject({ address: mediaAddress, names: ['revue-media-server'] });
    expect(result.stdout).toContain(`\n    ${mediaAddress} revue-media-server\n`);
    const ingressLines = lines.filter((l) => l.startsWith(`    ${INGRESS} `));
    expect(ingressLines.flatMap((l) => l.trim().split(' ').slice(1))).toEqual(
      expect.arrayContaining(['revue-auth', 'auth.revue.local', 'revue-monitoring', 'traefik.revue.local']),
    );
    expect(result.stdout).toContain('Revue logins: admin (role admin) and user (role guardian)');
  });

  it('a powered-off node is reported unreachable while the others are shown (exit 1)', async () => {
    await lab.node('pi-3').powerOff();
    try {
      const started = Date.now();
      const result = await status('--json');
      expect(result.code).toBe(1);
      const report = parse(result);
      expect(report.nodes.map((n) => [n.name, n.reachable])).toEqual([
        ['pi-1', true],
        ['pi-2', true],
        ['pi-3', false],
      ]);
      const pi3 = report.nodes[2]!;
      expect(pi3.error).toMatch(/pi-3.*127\.0\.80\.4.*ECONNREFUSED/);
      expect([pi3.model, pi3.k3sVersion, pi3.memoryCgroup, pi3.pageSize]).toEqual([null, null, null, null]);
      expect(report.nodes[0]!.model).toBe('Raspberry Pi 5 Model B Rev 1.0');
      expect(report.problems[0]).toMatch(/^Node pi-3 \(127\.0\.80\.4\) could not be reached or probed: .*ECONNREFUSED.*powered on/);
      // The cluster is still read from pi-1.
      expect(report.source).toEqual({ via: 'ssh', server: 'pi-1' });
      expect(Date.now() - started).toBeLessThan(60_000);

      const table = await status();
      expect(table.code).toBe(1);
      expect(table.stdout).toMatch(/ {2}pi-3 +agent +127\.0\.80\.4 +- +\S+ +- +- +UNREACHABLE \(see below\)/);
      expect(table.stdout).toMatch(/ {2}pi-1 +server +127\.0\.80\.2 +v1\.36\.4\+k3s1 +Ready/);
      expect(table.stdout).toMatch(/\d+ problems?:\n {2}- Node pi-3 \(127\.0\.80\.4\) could not be reached or probed/);
    } finally {
      await lab.node('pi-3').powerOn();
    }
  });

  it('K3s stopped on the only server: the nodes are still shown, the cluster is reported unreadable (exit 1)', async () => {
    const server = lab.node('pi-1');
    expect((await server.exec('systemctl stop k3s')).code).toBe(0);
    try {
      const result = await status('--json');
      expect(result.code).toBe(1);
      const report = parse(result);
      expect(report.source.via).toBe('none');
      expect(report.nodes.map((n) => [n.name, n.reachable, n.ready, n.k3sRunning])).toEqual([
        ['pi-1', true, null, false],
        ['pi-2', true, null, true],
        ['pi-3', true, null, true],
      ]);
      expect(report.metallb.poolsFrom).toBe('inventory');
      expect(report.workloads).toEqual([]);
      expect(report.problems).toEqual([
        'K3s (k3s.service) is not running on node pi-1; see journalctl -u k3s there, or run revue-pi up.',
        expect.stringMatching(
          /^The cluster could not be read over SSH from any server \(pi-1: k3s kubectl exited 1: .*refused.*\); node readiness and workloads are unknown\.$/,
        ),
      ]);
      const table = await status();
      expect(table.stdout.split('\n')[0]).toBe('Cluster lab: 3 nodes; the cluster itself could not be read (see the problems below).');
      expect(table.stdout).toMatch(/ {2}pi-1 +server +127\.0\.80\.2 +v1\.36\.4\+k3s1 +\? +on +4K/);
    } finally {
      await server.exec('systemctl start k3s');
    }
  });

  /** up's --json report (a failure of the workloads phase is exit 1 with its sentence). */
  type UpReport = { ok: boolean; workloads?: { error?: string; phases?: { phase: string; status: string }[] } };
  const kubectlOnServer = async (args: string) => {
    const r = await lab.node('pi-1').exec(`/usr/local/bin/k3s kubectl ${args}`);
    expect(r.code, r.stderr + r.stdout).toBe(0);
  };

  it('a chart whose install Job gives up: up exits 1 naming the Job and how to read its log, at once; status says the same', async () => {
    // The test before restarted K3s: wait until its API answers again.
    const deadline = Date.now() + 60_000;
    while ((await lab.node('pi-1').exec('/usr/local/bin/k3s kubectl get nodes -o name')).code !== 0) {
      expect(Date.now(), 'K3s on pi-1 did not answer within 60 s of its restart').toBeLessThan(deadline);
      await new Promise((r) => setTimeout(r, 500));
    }
    setHelmInstall(lab.node('pi-1'), 'kube-system/grafana', { outcome: 'fail' });
    try {
      // The helm-controller installs a chart that is new (or changed): delete it, and up applies it again.
      await kubectlOnServer('-n kube-system delete helmchart grafana');
      const up = await runCli(['up', '-i', inventory, '--yes', '--json', '--state-dir', stateDir, '--kubeconfig', join(stateDir, 'kc')], {
        timeoutMs: 200_000,
      });
      expect(up.code, up.stderr.slice(-2000)).toBe(1);
      const report = JSON.parse(up.stdout) as UpReport;
      const sentence =
        'HelmChart kube-system/grafana failed to install: Job kube-system/helm-install-grafana gave up after 1001 failed attempts; ' +
        'read why with kubectl -n kube-system logs job/helm-install-grafana, fix it, then delete the Job so K3s tries again.';
      expect(report.workloads?.error).toBe(`the monitoring objects were applied, but ${sentence}`);
      expect(report.workloads?.phases?.map((p) => [p.phase, p.status]).slice(-2)).toEqual([
        ['monitoring', 'failed'],
        ['revue', 'skipped'],
      ]);

      const result = await status('--json');
      expect(result.code).toBe(1);
      const st = parse(result);
      expect(st.charts.map((c) => [c.name, c.state, c.failedAttempts])).toEqual([
        ['grafana', 'failed', 1001],
        ['prometheus', 'installed', 0],
      ]);
      expect(st.problems).toContain(`${sentence} Its workloads are missing: Deployment monitoring/grafana.`);
    } finally {
      setHelmInstall(lab.node('pi-1'), 'kube-system/grafana', undefined);
    }
  }, 240_000);

  it('a release running none of its workloads after its Job succeeded: up exits 1 saying which Job to delete, as status does; done so, up installs it', async () => {
    setHelmInstall(lab.node('pi-1'), 'kube-system/grafana', { outcome: 'no-workloads' });
    const sentence =
      'Deployment monitoring/grafana (release grafana of HelmChart kube-system/grafana) is missing although its install Job succeeded; ' +
      'delete the Job so K3s installs the chart again (kubectl -n kube-system delete job helm-install-grafana).';
    try {
      await kubectlOnServer('-n kube-system delete helmchart grafana');
      const up = await runCli(['up', '-i', inventory, '--yes', '--json', '--state-dir', stateDir, '--kubeconfig', join(stateDir, 'kc')], {
        timeoutMs: 200_000,
      });
      expect(up.code, up.stderr.slice(-2000)).toBe(1);
      expect((JSON.parse(up.stdout) as UpReport).workloads?.error).toBe(`the monitoring objects were applied, but ${sentence}`);

      const result = await status('--json');
      expect(result.code).toBe(1);
      const st = parse(result);
      expect(st.charts.map((c) => [c.name, c.state])).toEqual([
        ['grafana', 'installed'],
        ['prometheus', 'installed'],
      ]);
      expect(st.problems).toContain(sentence);
    } finally {
      setHelmInstall(lab.node('pi-1'), 'kube-system/grafana', undefined);
    }
    // As both said: delete the Job; K3s installs the chart again (the stand-in when up applies it), and up succeeds.
    await kubectlOnServer('-n kube-system delete jobs.batch helm-install-grafana');
    const again = await runCli(['up', '-i', inventory, '--yes', '--json', '--state-dir', stateDir, '--kubeconfig', join(stateDir, 'kc')], {
      timeoutMs: 200_000,
    });
    expect(again.code, again.stderr.slice(-2000) + again.stdout.slice(-2000)).toBe(0);
    const st = parse(await status('--json'));
    expect(st.charts.map((c) => [c.name, c.state])).toEqual([
      ['grafana', 'installed'],
      ['prometheus', 'installed'],
    ]);
    expect(st.workloads.filter((w) => w.namespace === 'monitoring' && w.state !== 'ready')).toEqual([]);
    expect(st.problems.filter((p) => /monitoring|HelmChart/.test(p))).toEqual([]);
  }, 300_000);
});

/**
 * Writes what the controllers the stand-in lacks would write: K3s's helm-controller (the traefik Deployment and
 * its LoadBalancer Service, the workloads of the Grafana and Prometheus releases), MetalLB (addresses in the Services' status) and the HPA controller (replicas and the
 * CPU reading). The stand-in stores an applied object's status as given.
 */
async function simulateControllers(lab: Lab): Promise<void> {
  const server = lab.node('pi-1');
  const hpa = await server.exec('/usr/local/bin/k3s kubectl -n revue get horizontalpodautoscalers revue-frontend-hpa -o json');
  expect(hpa.code, hpa.stderr).toBe(0);
  const hpaObject = JSON.parse(hpa.stdout) as Record<string, unknown>;
  hpaObject.status = {
    currentReplicas: 2,
    desiredReplicas: 3,
    currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 75, averageValue: '150m' } } }],
  };
  const deployment = (namespace: string, name: string) => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name, image: `${name}:simulated` }] } },
    },
  });
  // MetalLB: every LoadBalancer Service gets the address it asks for, else the next free one of the pool.
  const services = await server.exec('/usr/local/bin/k3s kubectl get services -A -o json');
  expect(services.code, services.stderr).toBe(0);
  let next = 201;
  const loadBalancers = (
    JSON.parse(services.stdout) as { items: { metadata: { annotations?: Record<string, string> }; spec: { type?: string }; status?: unknown }[] }
  ).items
    .filter((s) => s.spec.type === 'LoadBalancer')
    .map((s) => ({
      ...s,
      status: { loadBalancer: { ingress: [{ ip: s.metadata.annotations?.['metallb.io/loadBalancerIPs'] ?? `${SUBNET}${next++}`, ipMode: 'VIP' }] } },
    }));
  const objects = [
    deployment('kube-system', 'traefik'),
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'traefik', namespace: 'kube-system', annotations: { 'metallb.io/loadBalancerIPs': INGRESS } },
      spec: { type: 'LoadBalancer', selector: { app: 'traefik' }, ports: [{ name: 'web', port: 80 }] },
      status: { loadBalancer: { ingress: [{ ip: INGRESS, ipMode: 'VIP' }] } },
    },
    // What the Grafana and Prometheus releases run (workloads/monitoring/contract.ts).
    deployment('monitoring', 'grafana'),
    deployment('monitoring', 'prometheus-server'),
    deployment('monitoring', 'prometheus-kube-state-metrics'),
    {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'prometheus-prometheus-node-exporter', namespace: 'monitoring' },
      spec: {
        selector: { matchLabels: { app: 'node-exporter' } },
        template: { metadata: { labels: { app: 'node-exporter' } }, spec: { containers: [{ name: 'node-exporter', image: 'node-exporter:simulated' }] } },
      },
    },
    ...loadBalancers,
    hpaObject,
  ];
  const list = JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects });
  const applied = await server.exec(`/usr/local/bin/k3s kubectl apply -f - <<'EOF'\n${list}\nEOF`);
  expect(applied.code, applied.stderr + applied.stdout).toBe(0);
}
