import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { K3S_PROBE_SECTIONS, parseK3sFacts } from '../../cluster/facts.js';
import { runClusterPhase, type ClusterNodeInput } from '../../cluster/phase.js';
import { transportOpener } from '../../core/connect.js';
import type { RunEvent } from '../../core/events.js';
import { loadInventory } from '../../core/inventory/parse.js';
import { RunLog } from '../../core/log.js';
import { probeFacts } from '../../pipeline/pipeline.js';
import { buildProbeScript, parseProbeOutput } from '../../core/remote/probe.js';
import type { Transport } from '../../core/remote/transport.js';
import { formatHostsLines } from '../../workloads/access.js';
import { REMOTE_APPLY_DIR } from '../../workloads/apply.js';
import { runWorkloadsPhase, type WorkloadsPhaseResult } from '../../workloads/phase.js';
import { WORKLOAD_SECRETS_FILE } from '../../workloads/secrets-file.js';
import { ARMV82_LABEL, MANAGED_BY_LABEL, renderWorkloads } from '../../workloads/render.js';
import { allSecretValues, type WorkloadSecrets } from '../../workloads/secrets.js';
import { startInstallerServer, type InstallerServer } from '../lab/k3s-standin/server.js';
import { startLab, type Lab, type LabNode } from '../lab/lab.js';
import { describeLab } from '../lab/skip.js';
import type { ShellScript } from '../../core/remote/shell.js';
import { tempDir } from '../fakes/temp-dir.js';

/**
 * Issue 4's lab scenario: real SSH to simulated Pis, the lab's K3s STAND-IN (test/lab/k3s-standin/ — not K3s: it
 * stores objects and reports workloads ready at once, runs no pods). The cluster phase installs a server and an
 * agent, then the workloads phase is driven directly (the way the pipeline will run it after the cluster phase).
 * What is checked is what reached the stand-in's object store, read back with `k3s kubectl` inside the node.
 */
interface Run {
  result: WorkloadsPhaseResult;
  events: RunEvent[];
  ms: number;
  /** Every script the phase ran on the first server, in order. */
  scripts: string[];
}

/** The first server's transport, recording the scripts run through it (the real SSH transport underneath). */
function recording(transport: Transport, scripts: string[]): Transport {
  return new Proxy(transport, {
    get(target, prop, receiver) {
      if (prop === 'run') return (script: ShellScript, opts?: Parameters<Transport['run']>[1]) => (scripts.push(script.text), target.run(script, opts));
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

const RECORD = '/ConfigMap/kube-system/revue-pi-applied';

describeLab('workloads on the lab: everything applied, a re-run applies nothing, monitoring off is pruned', () => {
  let lab: Lab;
  let installer: InstallerServer;
  let dir: string;
  const state = () => join(dir, 'state');
  const inventoryFile = (extra: Record<string, unknown> = {}) =>
    lab.writeInventory({
      cluster: { domain: 'revue.lab' },
      k3s: { installScriptUrl: installer.url },
      network: { metallb: { pools: [{ name: 'lan', addresses: ['127.0.70.200-127.0.70.220'] }] }, addresses: { ingress: '127.0.70.200' } },
      ...extra,
    });

  async function workloads(file: string, opts: { force?: boolean; reapply?: boolean; pruneData?: boolean; command?: 'up' | 'plan' } = {}): Promise<Run> {
    const { inventory } = loadInventory(file);
    const command = opts.command ?? 'up';
    const log = new RunLog(state(), command);
    const open = transportOpener(inventory, { log });
    const transports: Transport[] = [];
    const events: RunEvent[] = [];
    const scripts: string[] = [];
    try {
      const nodes = await Promise.all(
        inventory.nodes.map(async (node) => {
          const transport = await open(node);
          transports.push(transport);
          return { node, transport, facts: await probeFacts(transport) };
        }),
      );
      const t0 = Date.now();
      const result = await runWorkloadsPhase({
        command,
        inventory,
        stateDir: state(),
        emit: (e) => events.push(e),
        log,
        firstServer: { node: nodes[0]!.node, transport: recording(nodes[0]!.transport, scripts) },
        nodes: nodes.map((n) => ({ node: n.node, facts: n.facts })),
        force: opts.force,
        reapply: opts.reapply,
        pruneData: opts.pruneData,
        phaseTimeoutMs: 60_000,
        pollIntervalMs: 500,
      });
      return { result, events, ms: Date.now() - t0, scripts };
    } finally {
      await Promise.all(transports.map((t) => t.close().catch(() => undefined)));
    }
  }

  /**
   * Every object with revue-pi's label in the stand-in's store, as `group/Kind/namespace/name` — without the record
   * of the last apply (kube-system/revue-pi-applied) unless asked: it is no object of the render.
   */
  async function liveManaged(server: LabNode, withRecord = false): Promise<string[]> {
    const kinds = [
      'namespace',
      'secret',
      'configmap',
      'service',
      'serviceaccount',
      'persistentvolumeclaim',
      'deployment.apps',
      'daemonset.apps',
      'statefulset.apps',
      'horizontalpodautoscaler.autoscaling',
      'role.rbac.authorization.k8s.io',
      'rolebinding.rbac.authorization.k8s.io',
      'clusterrole.rbac.authorization.k8s.io',
      'clusterrolebinding.rbac.authorization.k8s.io',
      'customresourcedefinition.apiextensions.k8s.io',
      'validatingwebhookconfiguration.admissionregistration.k8s.io',
      'helmchart.helm.cattle.io',
      'helmchartconfig.helm.cattle.io',
      'ingressroute.traefik.io',
    ];
    const crds = await server.exec('k3s kubectl get crd -o name');
    if (crds.stdout.includes('ipaddresspools.metallb.io')) kinds.push('ipaddresspool.metallb.io', 'l2advertisement.metallb.io');
    const r = await server.exec(`k3s kubectl get ${kinds.join(',')} -A -l ${MANAGED_BY_LABEL}=revue-pi -o json`);
    expect(r.code, r.stderr).toBe(0);
    const items = (JSON.parse(r.stdout) as { items: { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } }[] }).items;
    return items
      .map((i) => `${i.apiVersion.includes('/') ? i.apiVersion.split('/')[0] : ''}/${i.kind}/${i.metadata.namespace ?? ''}/${i.metadata.name}`)
      .filter((k) => withRecord || k !== RECORD)
      .sort();
  }

  const keyOf = (o: { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } }) =>
    `${o.apiVersion.includes('/') ? o.apiVersion.split('/')[0] : ''}/${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;

  beforeAll(async () => {
    installer = await startInstallerServer();
    // 2 GB boards: the workloads' minimum requests do not fit until --force.
    lab = await startLab(
      [
        { name: 'pi-1', memoryMiB: 2048 },
        { name: 'pi-2', model: 'Raspberry Pi 4 Model B Rev 1.5', memoryMiB: 2048 },
      ],
      { subnet: '127.0.70.' },
    );
    dir = tempDir('workloads-it');
    // The cluster first: K3s (stand-in) on pi-1 (server) and pi-2 (agent).
    const { inventory } = loadInventory(inventoryFile());
    const log = new RunLog(state(), 'up');
    const open = transportOpener(inventory, { log });
    const nodes: ClusterNodeInput[] = [];
    try {
      for (const node of inventory.nodes) {
        const transport = await open(node);
        const probe = await transport.run(buildProbeScript(K3S_PROBE_SECTIONS), { sudo: true });
        nodes.push({
          node,
          transport,
          report: { name: node.name, host: node.host, role: node.role, status: 'unchanged', steps: [], warnings: [] },
          k3s: parseK3sFacts(parseProbeOutput(probe.stdout)),
        });
      }
      await runClusterPhase({
        command: 'up',
        inventory,
        stateDir: state(),
        concurrency: 4,
        emit: () => undefined,
        log,
        nodes,
        kubeconfigPath: join(dir, 'kubeconfig'),
        readyTimeoutMs: 60_000,
      });
      expect(nodes.map((n) => n.report.error)).toEqual([undefined, undefined]);
    } finally {
      await Promise.all(nodes.map((n) => n.transport?.close().catch(() => undefined)));
    }
  }, 240_000);

  afterAll(async () => {
    await lab?.stop();
    await installer?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('refuses when the minimum requests do not fit the lab nodes (2 GB each), applying nothing', async () => {
    const run = await workloads(inventoryFile());
    expect(run.result.ok).toBe(false);
    expect(run.result.capacity?.verdict).toBe('refuse');
    expect(run.result.error).toMatch(/^the workloads do not fit on the nodes, so nothing was applied: The minimum .* --force/);
    expect(await liveManaged(lab.node('pi-1'))).toEqual([]);
  });

  it('up --force applies everything in phases; the stand-in holds every rendered object; nodes labelled from their facts', async () => {
    const run = await workloads(inventoryFile(), { force: true });
    expect(run.result.error).toBeUndefined();
    expect(run.result.phases.map((p) => [p.phase, p.status])).toEqual([
      ['metallb', 'changed'],
      ['metallb-config', 'changed'],
      ['traefik', 'changed'],
      ['monitoring', 'changed'],
      ['revue', 'changed'],
    ]);
    const secrets = JSON.parse(readFileSync(join(state(), WORKLOAD_SECRETS_FILE), 'utf8')) as WorkloadSecrets;
    expect(statSync(join(state(), WORKLOAD_SECRETS_FILE)).mode & 0o777).toBe(0o600);
    const { inventory } = loadInventory(inventoryFile());
    const rendered = renderWorkloads(inventory, { secrets });
    expect(await liveManaged(lab.node('pi-1'))).toEqual(rendered.map(keyOf).sort());
    expect(run.result.phases.reduce((n, p) => n + p.created, 0)).toBe(rendered.length);
    // The record of this complete apply, for the next run's fast path.
    // (On a fresh cluster the check cannot even list: MetalLB's kinds are not served before its CRDs are applied.)
    expect(run.result.fastPath).toEqual({
      taken: false,
      reason: expect.stringMatching(/^kubectl could not list the managed objects \(exit 1\): .*ipaddresspool\.metallb\.io/),
    });
    expect(await liveManaged(lab.node('pi-1'), true)).toContain(RECORD);

    // A Secret's value reached the cluster; no temp file is left on the server; no secret in events or the run log.
    const s = await lab.node('pi-1').exec('k3s kubectl -n revue get secret revue-tokens -o json');
    expect(Buffer.from((JSON.parse(s.stdout) as { data: Record<string, string> }).data.JWT_SECRET!, 'base64').toString()).toBe(secrets.jwtSecret);
    const leftovers = existsSync(lab.node('pi-1').path(REMOTE_APPLY_DIR)) ? readdirSync(lab.node('pi-1').path(REMOTE_APPLY_DIR)) : [];
    expect(leftovers).toEqual([]);
    const logs = readdirSync(join(state(), 'logs'))
      .map((f) => readFileSync(join(state(), 'logs', f), 'utf8'))
      .join('\n');
    for (const v of allSecretValues(secrets)) {
      expect(logs).not.toContain(v);
      expect(JSON.stringify(run.events)).not.toContain(v);
    }

    const nodes = JSON.parse((await lab.node('pi-1').exec('k3s kubectl get nodes -o json')).stdout) as {
      items: { metadata: { name: string; labels: Record<string, string> } }[];
    };
    expect(Object.fromEntries(nodes.items.map((n) => [n.metadata.name, n.metadata.labels[ARMV82_LABEL]]))).toEqual({ 'pi-1': 'true', 'pi-2': 'false' });

    expect(formatHostsLines(run.result.access!.hostsEntries)[0]).toMatch(/^127\.0\.70\.200 alarm\.revue\.lab /);
    // The stand-in's MetalLB hands out no address: the media server's line says where to read it.
    expect(formatHostsLines(run.result.access!.hostsEntries).at(-1)).toBe('<revue-media-server-address> revue-media-server');
    expect(run.result.capacity).toMatchObject({ verdict: 'refuse', forced: true });
    console.log(`workloads up on the lab (stand-in): ${rendered.length} objects in ${run.ms} ms`);
  });

  it('a re-run takes the fast path: one kubectl round trip, no upload, no apply, and says so', async () => {
    const before = await liveManaged(lab.node('pi-1'), true);
    const run = await workloads(inventoryFile(), { force: true });
    expect(run.result.ok).toBe(true);
    expect(run.result.fastPath).toEqual({ taken: true });
    expect(run.scripts).toHaveLength(1);
    expect(run.scripts[0]).toMatch(
      /^\(\nfc=\/run\/revue-pi-fast-check\.\$\$\n\(umask 077; exec k3s kubectl get \S+ -A -l app\.kubernetes\.io\/managed-by=revue-pi -o json >\$fc\.1\) &/,
    );
    // Its two lists went through root-only files under /run, removed afterwards.
    expect((await lab.node('pi-1').exec('ls -A /run | grep revue-pi-fast-check || true')).stdout).toBe('');
    expect(run.scripts.filter((s) => s.includes('kubectl apply'))).toEqual([]);
    expect(run.events.filter((e) => e.type === 'node-step' && e.status === 'running')).toEqual([]);
    expect(run.result.changed).toBe(false);
    expect(run.result.phases.every((p) => p.status === 'unchanged' && p.created === 0 && p.configured === 0 && p.unchanged === p.objects)).toBe(true);
    expect(run.result.summary).toMatch(/^nothing changed: .* \(as last applied, all ready: not re-applied\)$/);
    expect(await liveManaged(lab.node('pi-1'), true)).toEqual(before);
    console.log(`workloads no-op re-run on the lab: ${run.ms} ms`);
  });

  it('a lost workload-secrets.json is taken back from the cluster: same values, nothing changed', async () => {
    const file = join(state(), WORKLOAD_SECRETS_FILE);
    const before = readFileSync(file, 'utf8');
    rmSync(file);
    const run = await workloads(inventoryFile(), { force: true });
    expect(run.result.error).toBeUndefined();
    expect(run.result.changed).toBe(false);
    expect(readFileSync(file, 'utf8')).toBe(before);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('plan with monitoring off lists what would go, data apart, and changes nothing; up with it off removes its route and keeps what holds data', async () => {
    const off = inventoryFile({ workloads: { monitoring: false } });
    const before = await liveManaged(lab.node('pi-1'));
    const plan = await workloads(off, { command: 'plan', force: true });
    expect(plan.result.pruned).toEqual(['IngressRoute monitoring/monitoring']);
    expect(plan.result.keptData).toEqual([
      'HelmChart kube-system/prometheus',
      'HelmChart kube-system/grafana',
      'Secret monitoring/grafana-admin',
      'Namespace monitoring',
    ]);
    expect(await liveManaged(lab.node('pi-1'))).toEqual(before);

    const run = await workloads(off, { force: true });
    expect(run.result.error).toBeUndefined();
    expect(run.result.pruned).toEqual(plan.result.pruned);
    expect(run.result.keptData).toEqual(plan.result.keptData);
    const after = await liveManaged(lab.node('pi-1'));
    expect(before.filter((k) => !after.includes(k))).toEqual(['traefik.io/IngressRoute/monitoring/monitoring']);
    expect(after.filter((k) => !before.includes(k))).toEqual([]);
    // And once more: nothing left to remove; the data is still kept, and said so.
    const again = await workloads(off, { force: true });
    expect(again.result.pruned).toEqual([]);
    expect(again.result.changed).toBe(false);
    expect(again.result.fastPath).toEqual({ taken: true });
    expect(again.result.keptData).toEqual(plan.result.keptData);
  });

  it('up --reapply (reapply option) skips the fast path and applies every phase: all unchanged', async () => {
    const off = inventoryFile({ workloads: { monitoring: false } });
    const run = await workloads(off, { force: true, reapply: true });
    expect(run.result.error).toBeUndefined();
    expect(run.result.fastPath).toBeUndefined();
    expect(run.scripts.filter((s) => s.includes('kubectl apply'))).toHaveLength(5); // 4 phases + the record
    expect(run.result.phases.map((p) => [p.phase, p.status, p.unchanged === p.objects])).toEqual([
      ['metallb', 'unchanged', true],
      ['metallb-config', 'unchanged', true],
      ['traefik', 'unchanged', true],
      ['revue', 'unchanged', true],
    ]);
  });

  it('Revue switched off: its volume claims (the MongoDB data), Secrets and namespace are kept, with the commands to delete them; --prune-data deletes them', async () => {
    const off = inventoryFile({ workloads: { monitoring: false, revue: false } });
    const claimsOf = (keys: string[]) => keys.filter((k) => k.startsWith('/PersistentVolumeClaim/revue/'));
    const before = await liveManaged(lab.node('pi-1'));
    expect(claimsOf(before).length).toBeGreaterThanOrEqual(7);

    const kept = await workloads(off, { force: true });
    expect(kept.result.error).toBeUndefined();
    const after = await liveManaged(lab.node('pi-1'));
    expect(claimsOf(after)).toEqual(claimsOf(before));
    expect(after).toContain('/Namespace//revue');
    expect(after.filter((k) => k.startsWith('apps/Deployment/revue/'))).toEqual([]);
    expect(kept.result.keptData).toEqual(expect.arrayContaining(['PersistentVolumeClaim revue/revue-auth-data', 'Namespace revue']));
    // Monitoring's data is still kept from the test before: one command for both namespaces.
    expect(kept.result.deleteDataCommands[kept.result.deleteDataCommands.length - 1]).toBe('kubectl --context lab delete namespace revue monitoring');
    expect(kept.events).toContainEqual({
      type: 'warning',
      message: expect.stringMatching(/^Kept \d+ objects holding data that the inventory no longer deploys: .*PersistentVolumeClaim revue\/revue-auth-data/),
    });
    // The claims still exist in the cluster (the stand-in keeps what it stores): nothing asked the API to delete them.
    const claims = await lab.node('pi-1').exec('k3s kubectl -n revue get persistentvolumeclaim -o name');
    expect(claims.stdout).toContain('persistentvolumeclaim/revue-auth-data');

    const pruned = await workloads(off, { force: true, pruneData: true });
    expect(pruned.result.error).toBeUndefined();
    expect(pruned.result.keptData).toEqual([]);
    expect(pruned.result.pruned).toEqual(
      expect.arrayContaining(['PersistentVolumeClaim revue/revue-auth-data', 'Namespace revue', 'HelmChart kube-system/prometheus']),
    );
    const gone = await liveManaged(lab.node('pi-1'));
    expect(claimsOf(gone)).toEqual([]);
    expect(gone).not.toContain('/Namespace//revue');
    expect(gone).not.toContain('/Namespace//monitoring');
  });
});
