import { readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Inventory } from '../../../core/inventory/schema.js';
import { formatHostsLines } from '../../../workloads/access.js';
import { REMOTE_APPLY_DIR } from '../../../workloads/apply.js';
import { runWorkloadsPhase } from '../../../workloads/phase.js';
import { WORKLOAD_SECRETS_FILE } from '../../../workloads/secrets-file.js';
import { ARMV82_LABEL, PHASES, renderWorkloads } from '../../../workloads/render.js';
import { allSecretValues } from '../../../workloads/secrets.js';
import { deterministicRandom } from '../../fakes/deterministic-random.js';
import { facts, labInventory, options, storedSecrets, world, type World } from './helpers.js';
import { tempDir } from '../../fakes/temp-dir.js';

/**
 * runWorkloadsPhase against a scripted Kubernetes (FakeKube, a TEST DOUBLE behind the FakeTransport): what is
 * uploaded and applied, in which order, what a re-run does, pruning, the webhook race, timeouts, capacity.
 */
let dir: string;
beforeEach(() => {
  dir = tempDir('workloads');
});

describe('up on an empty cluster', () => {
  it('plans the labels from the node list the cluster phase just read, without listing the nodes again', async () => {
    const w = world(dir);
    const nodesJson = JSON.stringify({ items: Object.entries(w.kube.nodes).map(([name, labels]) => ({ metadata: { name, labels: { ...labels } } })) });
    const result = await runWorkloadsPhase(options(w, labInventory(), { nodesJson }));
    expect(result.ok).toBe(true);
    expect(w.kube.kubectl.queries.filter((q) => q.resources.includes('nodes'))).toEqual([]);
    expect(w.kube.nodes['pi-3']![ARMV82_LABEL]).toBe('false');
  });

  it('applies every phase in order from root-only files it removes, labels the nodes, keeps the secrets 0600, returns the access info', async () => {
    const w = world(dir);
    const inventory = labInventory();
    const result = await runWorkloadsPhase(options(w, inventory));
    expect(result.error).toBeUndefined();
    expect(result.ok).toBe(true);
    expect(result.changed).toBe(true);

    // Phases in order, each uploaded 0600 as root to its own file, applied, then removed.
    // Then the record of this complete apply (the next run's fast path compares with it).
    const files = [...PHASES, 'record'].map((p) => `${REMOTE_APPLY_DIR}/apply-${p}.yaml`);
    expect(w.kube.applies.map((a) => a.path)).toEqual(files);
    expect(w.transport.writes.map((x) => [x.path, x.mode, x.sudo])).toEqual(files.map((f) => [f, 0o600, true]));
    expect([...w.transport.files.keys()].filter((f) => f.startsWith(REMOTE_APPLY_DIR))).toEqual([]);
    expect(w.transport.runs.every((r) => r.opts?.sudo === true)).toBe(true);

    // Everything rendered is now in the cluster, every object reported created.
    const secrets = storedSecrets(dir);
    const rendered = renderWorkloads(inventory, { secrets });
    expect(w.kube.objects.size).toBe(rendered.length + 1);
    expect(w.kube.objects.has('/ConfigMap/kube-system/revue-pi-applied')).toBe(true);
    expect(result.phases.map((p) => [p.phase, p.status, p.created, p.unchanged])).toEqual(
      PHASES.map((p) => [p, 'changed', rendered.filter((o) => o.metadata.labels?.['revue-pi.io/phase'] === p).length, 0]),
    );
    expect(result.summary).toBe(`${rendered.length} objects: ${rendered.length} created, 0 configured, 0 unchanged; 3 node labels set; 0 removed`);

    // ARMv8.2 labels from the facts: the Pi 4 gets false.
    expect(w.kube.nodes['pi-1']![ARMV82_LABEL]).toBe('true');
    expect(w.kube.nodes['pi-2']![ARMV82_LABEL]).toBe('true');
    expect(w.kube.nodes['pi-3']![ARMV82_LABEL]).toBe('false');
    expect(result.nodeLabels).toEqual([
      `label node pi-1 ${ARMV82_LABEL}=true`,
      `label node pi-2 ${ARMV82_LABEL}=true`,
      `label node pi-3 ${ARMV82_LABEL}=false`,
    ]);
    expect(w.kube.labelCommands).toHaveLength(1); // one round trip for all three

    // Secrets: stored 0600, applied as Secrets, never in events or the log.
    expect(statSync(join(dir, 'state', WORKLOAD_SECRETS_FILE)).mode & 0o777).toBe(0o600);
    const dbSecret = w.kube.objects.get('/Secret/revue/revue-auth-db')!;
    expect(Buffer.from((dbSecret as unknown as { data: { password: string } }).data.password, 'base64').toString()).toBe(secrets.mongoRootPasswords.auth);
    const logText = readFileSync(w.log.path!, 'utf8');
    const eventText = JSON.stringify(w.events) + JSON.stringify(result);
    for (const value of allSecretValues(secrets)) {
      expect(logText).not.toContain(value);
      expect(eventText).not.toContain(value);
    }

    // Capacity figures and access info.
    expect(result.capacity?.verdict).toBe('ok');
    expect(result.capacity?.messages[0]).toMatch(
      /^The workloads request [\d.]+ CPU \/ [\d.]+ GiB at their minimum replicas and [\d.]+ CPU \/ [\d.]+ GiB with every autoscaler at its maximum; the nodes can give [\d.]+ CPU/,
    );
    expect(w.events).toContainEqual({ type: 'info', message: result.capacity!.messages[0] });
    expect(result.access?.ingressAddress).toBe('192.168.50.240');
    expect(result.access?.urls).toContainEqual({ name: 'Grafana', url: 'http://grafana.revue.lan/' });
    expect(formatHostsLines(result.access!.hostsEntries)[0]).toMatch(/^192\.168\.50\.240 alarm\.revue\.lan /);
    expect(formatHostsLines(result.access!.hostsEntries).at(-1)).toBe('192.168.50.241 revue-media-server');
    expect(result.access?.grafanaPassword).toContain('kubectl -n monitoring get secret grafana-admin');
  });

  it('a re-run changes nothing and says so: every object unchanged, no label, no delete, same secrets', async () => {
    const w = world(dir);
    const inventory = labInventory();
    await runWorkloadsPhase(options(w, inventory));
    const first = storedSecrets(dir);
    const labelsBefore = w.kube.labelCommands.length;
    const again = await runWorkloadsPhase(options(w, inventory, { random: deterministicRandom('another-seed') }));
    expect(again.ok).toBe(true);
    expect(again.changed).toBe(false);
    expect(again.phases.every((p) => p.status === 'unchanged' && p.created === 0 && p.configured === 0 && p.unchanged === p.objects)).toBe(true);
    expect(again.summary).toMatch(
      /^nothing changed: \d+ objects: 0 created, 0 configured, \d+ unchanged; 0 node labels set; 0 removed \(as last applied, all ready: not re-applied\)$/,
    );
    expect(again.fastPath).toEqual({ taken: true });
    expect(w.kube.labelCommands.length).toBe(labelsBefore);
    expect(w.kube.deletes).toEqual([]);
    expect(storedSecrets(dir)).toEqual(first);
  });

  it('turning monitoring off removes its route but keeps what holds data (charts with volumes, their namespace and its Secret), saying how to delete them', async () => {
    const w = world(dir);
    await runWorkloadsPhase(options(w, labInventory()));
    const before = new Set(w.kube.objects.keys());
    const result = await runWorkloadsPhase(options(w, labInventory({ workloads: { monitoring: false } })));
    expect(result.ok).toBe(true);
    expect([...before].filter((k) => !w.kube.objects.has(k)).sort()).toEqual(['traefik.io/IngressRoute/monitoring/monitoring']);
    expect(result.pruned).toEqual(['IngressRoute monitoring/monitoring']);
    expect(result.keptData).toEqual([
      'HelmChart kube-system/prometheus',
      'HelmChart kube-system/grafana',
      'Secret monitoring/grafana-admin',
      'Namespace monitoring',
    ]);
    expect(result.deleteDataCommands).toEqual([
      'kubectl --context lab -n kube-system delete helmchart.helm.cattle.io prometheus grafana',
      'kubectl --context lab -n monitoring delete secret grafana-admin',
      'kubectl --context lab delete namespace monitoring',
    ]);
    expect(w.events).toContainEqual({
      type: 'warning',
      message: expect.stringMatching(
        /^Kept 4 objects holding data that the inventory no longer deploys: HelmChart kube-system\/prometheus, .*run up --prune-data, or\n {6}kubectl --context lab -n kube-system delete helmchart\.helm\.cattle\.io prometheus grafana\n/,
      ),
    });
    expect(result.summary).toMatch(/; 1 removed; 4 holding data kept$/);
    expect(result.phases.map((p) => p.phase)).toEqual(['metallb', 'metallb-config', 'traefik', 'revue']);
    expect(result.access?.urls.map((u) => u.name)).toEqual(['Revue', 'Traefik dashboard', 'Kafka UI']);

    // The next run takes the fast path: kept data is no work to do; it is still reported.
    const again = await runWorkloadsPhase(options(w, labInventory({ workloads: { monitoring: false } })));
    expect(again.fastPath).toEqual({ taken: true });
    expect(again.keptData).toEqual(result.keptData);

    // --prune-data deletes them, namespace last.
    const pruned = await runWorkloadsPhase(options(w, labInventory({ workloads: { monitoring: false } }), { pruneData: true }));
    expect(pruned.fastPath).toEqual({ taken: false, reason: '4 object(s) holding data to delete (--prune-data)' });
    expect(pruned.pruned).toEqual([
      'HelmChart kube-system/prometheus',
      'HelmChart kube-system/grafana',
      'Secret monitoring/grafana-admin',
      'Namespace monitoring',
    ]);
    expect(pruned.keptData).toEqual([]);
    expect([...before].filter((k) => !w.kube.objects.has(k)).sort()).toEqual([
      '/Namespace//monitoring',
      '/Secret/monitoring/grafana-admin',
      'helm.cattle.io/HelmChart/kube-system/grafana',
      'helm.cattle.io/HelmChart/kube-system/prometheus',
      'traefik.io/IngressRoute/monitoring/monitoring',
    ]);
  });

  it('turning Revue off keeps its volume claims, Secrets and namespace (the MongoDB data) and removes the rest; --yes alone never deletes them', async () => {
    const w = world(dir);
    await runWorkloadsPhase(options(w, labInventory()));
    const claims = () =>
      [...w.kube.objects.values()]
        .filter((o) => o.kind === 'PersistentVolumeClaim')
        .map((o) => o.metadata.name)
        .sort();
    const before = claims();
    expect(before).toContain('revue-auth-data');
    const result = await runWorkloadsPhase(options(w, labInventory({ workloads: { revue: false } })));
    expect(result.ok).toBe(true);
    expect(claims()).toEqual(before);
    expect(w.kube.objects.has('/Namespace//revue')).toBe(true);
    expect(w.kube.objects.has('/Secret/revue/revue-auth-db')).toBe(true);
    expect([...w.kube.objects.values()].filter((o) => o.metadata.namespace === 'revue' && o.kind === 'Deployment')).toEqual([]);
    expect(result.pruned).toContain('Deployment revue/revue-auth');
    expect(result.pruned.filter((p) => /^(PersistentVolumeClaim|Namespace|Secret) /.test(p))).toEqual([]);
    expect(result.keptData).toContain('PersistentVolumeClaim revue/revue-auth-data');
    expect(result.keptData[result.keptData.length - 1]).toBe('Namespace revue');
    expect(result.deleteDataCommands).toContainEqual(
      expect.stringMatching(/^kubectl --context lab -n revue delete persistentvolumeclaim revue-\S+-data( revue-\S+-data)+$/),
    );
    expect(result.deleteDataCommands[result.deleteDataCommands.length - 1]).toBe('kubectl --context lab delete namespace revue');
  });

  it('asks on its own before deleting data: the answer No keeps it, Yes deletes it; --prune-data needs no question', async () => {
    const w = world(dir);
    await runWorkloadsPhase(options(w, labInventory()));
    const asked: string[][] = [];
    const declined = await runWorkloadsPhase(
      options(w, labInventory({ workloads: { revue: false } }), { confirmDataRemoval: async (r) => (asked.push(r), false) }),
    );
    expect(asked).toHaveLength(1);
    expect(asked[0]).toContain('PersistentVolumeClaim revue/revue-auth-data (its volume and the data on it are deleted with it)');
    expect(asked[0]).toContain('Secret revue/revue-auth-db (the credentials of the data kept beside it)');
    expect(asked[0]![asked[0]!.length - 1]).toBe('Namespace revue (everything in the namespace is deleted with it, volumes included)');
    expect(declined.keptData).toContain('PersistentVolumeClaim revue/revue-auth-data');
    expect(w.kube.objects.has('/PersistentVolumeClaim/revue/revue-auth-data')).toBe(true);

    const accepted = await runWorkloadsPhase(
      options(w, labInventory({ workloads: { revue: false } }), { reapply: true, confirmDataRemoval: async (r) => (asked.push(r), true) }),
    );
    expect(asked).toHaveLength(2);
    expect(accepted.keptData).toEqual([]);
    expect(accepted.pruned[accepted.pruned.length - 1]).toBe('Namespace revue');
    expect([...w.kube.objects.values()].filter((o) => o.metadata.namespace === 'revue')).toEqual([]);
  });

  it('objects the cluster has without the managed-by label are never pruned', async () => {
    const w = world(dir);
    w.kube.objects.set('apps/Deployment/revue/someone-elses', {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'someone-elses', namespace: 'revue' },
    });
    const result = await runWorkloadsPhase(options(w, labInventory()));
    expect(result.pruned).toEqual([]);
    expect(w.kube.objects.has('apps/Deployment/revue/someone-elses')).toBe(true);
  });
});

describe('MetalLB webhook race', () => {
  it('retries the pool apply while the webhook refuses connections, then goes on', async () => {
    const w = world(dir);
    w.kube.webhookRefusals = 2;
    const result = await runWorkloadsPhase(options(w, labInventory()));
    expect(result.ok).toBe(true);
    const pools = result.phases.find((p) => p.phase === 'metallb-config')!;
    expect(pools.attempts).toBe(3);
    expect(pools.status).toBe('changed');
    // The L2Advertisement went through on the first attempt: still counted once, as created.
    expect([pools.created, pools.configured, pools.unchanged]).toEqual([pools.objects, 0, 0]);
    expect(w.transport.writes.filter((x) => x.path.endsWith('apply-metallb-config.yaml'))).toHaveLength(3);
  });

  it('gives up when the phase time is over: names the webhook, skips the later phases, prunes nothing', async () => {
    const w = world(dir);
    w.kube.webhookRefusals = 1_000_000;
    const result = await runWorkloadsPhase(options(w, labInventory(), { phaseTimeoutMs: 150, pollIntervalMs: 10 }));
    expect(result.ok).toBe(false);
    expect(result.error).toMatch(
      /^applying the metallb-config objects on pi-1 failed \(MetalLB's webhook did not accept them within 0\.2 s\): .*failed calling webhook "ipaddresspoolvalidationwebhook\.metallb\.io".*connection refused/s,
    );
    expect(result.phases.map((p) => [p.phase, p.status])).toEqual([
      ['metallb', 'changed'],
      ['metallb-config', 'failed'],
      ['traefik', 'skipped'],
      ['monitoring', 'skipped'],
      ['revue', 'skipped'],
    ]);
    // The managed list (the one query with CRD types listed only when served) was never made: nothing pruned.
    expect(w.kube.kubectl.queries.filter((q) => q.ifServed !== undefined)).toEqual([]);
    expect([...w.transport.files.keys()].filter((f) => f.startsWith(REMOTE_APPLY_DIR))).toEqual([]);
  });

  it("on a fresh K3s, waits for Traefik's IngressRoute CRD (it comes with the traefik-crd chart a while after the API)", async () => {
    const w = world(dir);
    w.kube.crdNotServed.set('IngressRoute', 2);
    const result = await runWorkloadsPhase(options(w, labInventory()));
    expect(result.error).toBeUndefined();
    expect(result.phases.find((p) => p.phase === 'monitoring')).toMatchObject({ status: 'changed', attempts: 3 });
    expect(w.events).toContainEqual({
      type: 'node-step',
      phase: 'workloads',
      node: 'pi-1',
      step: 'monitoring',
      status: 'running',
      detail: 'waiting for the CRDs of IngressRoute (traefik.io/v1alpha1) (attempt 1)',
    });
    expect(w.kube.objects.has('traefik.io/IngressRoute/monitoring/monitoring')).toBe(true);
  });

  it('a CRD that never comes is named when the phase time is over', async () => {
    const w = world(dir);
    w.kube.crdNotServed.set('IngressRoute', 1_000_000);
    const result = await runWorkloadsPhase(options(w, labInventory(), { phaseTimeoutMs: 100, pollIntervalMs: 10 }));
    expect(result.error).toMatch(
      /^applying the monitoring objects on pi-1 failed \(the cluster still serves no IngressRoute \(traefik\.io\/v1alpha1\) after 0\.1 s — are K3s's Traefik and its CRDs enabled\?\): .*no matches for kind "IngressRoute"/s,
    );
  });

  it('another apply failure is not retried', async () => {
    const w = world(dir);
    w.kube.applyFailure = { contains: 'autoAssign: true', stderr: 'The IPAddressPool "lan" is invalid: spec.addresses: Invalid value\n' };
    const result = await runWorkloadsPhase(options(w, labInventory()));
    expect(result.phases.find((p) => p.phase === 'metallb-config')).toMatchObject({ status: 'failed', attempts: 1 });
    expect(result.error).toBe(
      'applying the metallb-config objects on pi-1 failed (kubectl apply exited 1): The IPAddressPool "lan" is invalid: spec.addresses: Invalid value',
    );
  });
});

describe('bounded waits', () => {
  it('names the objects not ready and why (pod status, events) when a phase times out', async () => {
    const w = world(dir);
    w.kube.stuck.set('Deployment/revue/revue-auth', { observedGeneration: 1, replicas: 1, updatedReplicas: 1, availableReplicas: 0 });
    w.kube.pods = [
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'revue-auth-7d9c5b7f4-x2k8q', namespace: 'revue' },
        status: {
          phase: 'Pending',
          containerStatuses: [
            {
              name: 'auth',
              ready: false,
              restartCount: 0,
              state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "letsdothisshared/revue-auth:3.1.14"' } },
            },
          ],
        },
      },
    ];
    w.kube.events = [
      {
        kind: 'Event',
        type: 'Warning',
        reason: 'Failed',
        message: 'Failed to pull image: not found',
        involvedObject: { kind: 'Pod', name: 'revue-auth-7d9c5b7f4-x2k8q', namespace: 'revue' },
        lastTimestamp: '2026-11-25T10:00:00Z',
      },
    ];
    const result = await runWorkloadsPhase(options(w, labInventory(), { phaseTimeoutMs: 200 }));
    expect(result.ok).toBe(false);
    expect(result.error).toBe(
      'the revue objects were applied but one is not ready after 0.2 s: Deployment revue/revue-auth: 0 of 1 replicas available — ' +
        'pod revue-auth-7d9c5b7f4-x2k8q container auth: ImagePullBackOff (Back-off pulling image "letsdothisshared/revue-auth:3.1.14"); Failed: Failed to pull image: not found. ' +
        'Fix the cause (see kubectl describe on pi-1) and run up again.',
    );
    expect(w.kube.kubectl.queries.filter((q) => q.resources.includes('pods') && q.namespace === 'revue')).toHaveLength(1);
    expect(result.pruned).toEqual([]);
  });

  it('waits for the helm-install Jobs of the monitoring charts', async () => {
    const w = world(dir);
    w.kube.helmJobsDone = false;
    const result = await runWorkloadsPhase(options(w, labInventory(), { phaseTimeoutMs: 100 }));
    expect(result.phases.find((p) => p.phase === 'monitoring')?.status).toBe('failed');
    expect(result.error).toContain(
      'the monitoring objects were applied but 2 are not ready after 0.1 s: HelmChart kube-system/grafana was never installed: K3s has no install Job kube-system/helm-install-grafana for it',
    );
    expect(result.error).toContain('Job kube-system/helm-install-prometheus');
  });

  const monitoringPolls = (w: World) => w.kube.kubectl.queries.filter((q) => q.resources.includes('jobs.batch') && q.namespace === 'kube-system').length;

  it('a failed install Job fails the phase at once, naming the Job and how to read its log; Revue is not applied', async () => {
    const w = world(dir);
    w.kube.helmJobStatus.set('grafana', {
      failed: 1001,
      conditions: [{ type: 'Failed', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' }],
    });
    const result = await runWorkloadsPhase(options(w, labInventory(), { phaseTimeoutMs: 60_000 }));
    expect(result.ok).toBe(false);
    expect(result.error).toBe(
      'the monitoring objects were applied, but HelmChart kube-system/grafana failed to install: Job kube-system/helm-install-grafana gave up after 1001 failed attempts; ' +
        'read why with kubectl -n kube-system logs job/helm-install-grafana, fix it, then delete the Job so K3s tries again.',
    );
    // One look was enough: no wait for the phase time (60 s).
    expect(monitoringPolls(w)).toBe(1);
    expect(result.phases.map((p) => [p.phase, p.status])).toEqual([
      ['metallb', 'changed'],
      ['metallb-config', 'changed'],
      ['traefik', 'changed'],
      ['monitoring', 'failed'],
      ['revue', 'skipped'],
    ]);
  });

  it('a release running none of its workloads although its Job succeeded fails the phase once that has lasted, as status says it', async () => {
    const w = world(dir);
    w.kube.releasesRun = false;
    const result = await runWorkloadsPhase(options(w, labInventory(), { phaseTimeoutMs: 60_000, releaseSettleMs: 30 }));
    expect(result.ok).toBe(false);
    expect(result.error).toBe(
      'the monitoring objects were applied, but ' +
        [
          'Deployment monitoring/grafana (release grafana of HelmChart kube-system/grafana) is missing although its install Job succeeded; delete the Job so K3s installs the chart again (kubectl -n kube-system delete job helm-install-grafana).',
          ...[
            'Deployment monitoring/prometheus-server',
            'Deployment monitoring/prometheus-kube-state-metrics',
            'DaemonSet monitoring/prometheus-prometheus-node-exporter',
          ].map(
            (x) =>
              `${x} (release prometheus of HelmChart kube-system/prometheus) is missing although its install Job succeeded; delete the Job so K3s installs the chart again (kubectl -n kube-system delete job helm-install-prometheus).`,
          ),
        ].join(' '),
    );
    // Looked more than once (K3s may have been replacing a Job made for an earlier spec), not for the phase time.
    expect(monitoringPolls(w)).toBeGreaterThan(1);
    expect(readFileSync(w.log.path!, 'utf8')).toContain(
      '[pi-1] workloads monitoring: waiting for Deployment monitoring/grafana (missing although Job kube-system/helm-install-grafana succeeded)',
    );
  });

  it('waits for the release workloads to be ready, and names them when the phase time is over', async () => {
    const w = world(dir);
    w.kube.stuck.set('Deployment/monitoring/prometheus-server', {
      observedGeneration: 1,
      replicas: 1,
      updatedReplicas: 1,
      readyReplicas: 0,
      availableReplicas: 0,
    });
    const result = await runWorkloadsPhase(options(w, labInventory(), { phaseTimeoutMs: 100 }));
    expect(result.error).toMatch(
      /^the monitoring objects were applied but one is not ready after 0\.1 s: Deployment monitoring\/prometheus-server: 0 of 1 replicas ready — no pods yet\./,
    );
  });
});

describe('capacity', () => {
  const small = (w: World, inventory: Inventory) => options(w, inventory, { nodes: inventory.nodes.map((node) => ({ node, facts: facts(undefined, 1, 2) })) });

  it('refuses when the minimum does not fit, before changing anything', async () => {
    const w = world(dir);
    const result = await runWorkloadsPhase(small(w, labInventory()));
    expect(result.ok).toBe(false);
    expect(result.capacity?.verdict).toBe('refuse');
    expect(result.error).toMatch(
      /^the workloads do not fit on the nodes, so nothing was applied: The minimum \([\d.]+ CPU \/ [\d.]+ GiB\) does not fit in [\d.]+ CPU \/ [\d.]+ GiB: .*--force/,
    );
    expect(w.transport.writes).toEqual([]);
    expect(w.kube.labelCommands).toEqual([]);
  });

  it('--force applies anyway and says so', async () => {
    const w = world(dir);
    const result = await runWorkloadsPhase({ ...small(w, labInventory()), force: true });
    expect(result.ok).toBe(true);
    expect(result.capacity).toMatchObject({ verdict: 'refuse', forced: true });
    expect(w.events).toContainEqual({ type: 'warning', message: 'Applying anyway (--force): pods that do not fit stay Pending.' });
    expect(w.kube.applies.map((a) => a.path.replace(/^.*apply-|\.yaml$/g, ''))).toEqual([...PHASES, 'record']);
  });
});

describe('plan', () => {
  it('changes nothing: no upload, no label, no secrets file; says what it would apply', async () => {
    const w = world(dir);
    const result = await runWorkloadsPhase(options(w, labInventory(), { command: 'plan' }));
    expect(result.ok).toBe(true);
    expect(w.transport.writes).toEqual([]);
    expect(w.kube.labelCommands).toEqual([]);
    expect(() => statSync(join(dir, 'state', WORKLOAD_SECRETS_FILE))).toThrow();
    expect(result.phases.every((p) => p.status === 'planned')).toBe(true);
    expect(result.phases[0]!.plan).toMatch(/^would apply \d+ objects \(metallb\): \d+ new, 0 already there \(updated only where they differ\)$/);
    expect(result.nodeLabels).toHaveLength(3);
    expect(result.changed).toBe(true);
    expect(result.summary).toMatch(
      /^would apply \d+ objects in 5 phases \(metallb → metallb-config → traefik → monitoring → revue\); 3 node labels to set; 0 objects to remove$/,
    );
  });

  it('after an up with monitoring, a plan without it lists what would be removed', async () => {
    const w = world(dir);
    await runWorkloadsPhase(options(w, labInventory()));
    const count = w.kube.objects.size;
    const result = await runWorkloadsPhase(options(w, labInventory({ workloads: { monitoring: false } }), { command: 'plan' }));
    expect(result.pruned).toEqual(['IngressRoute monitoring/monitoring']);
    // What holds data is listed on its own: up asks for it separately.
    expect(result.keptData).toEqual([
      'HelmChart kube-system/prometheus',
      'HelmChart kube-system/grafana',
      'Secret monitoring/grafana-admin',
      'Namespace monitoring',
    ]);
    expect(result.summary).toMatch(
      /; 1 object to remove; 4 holding data, removed only if you consent when up asks \(or with --prune-data\): HelmChart kube-system\/prometheus, /,
    );
    expect(w.events).toContainEqual(expect.objectContaining({ type: 'node-step', step: 'prune-data', status: 'planned' }));
    expect(result.phases.every((p) => /: 0 new, \d+ already there/.test(p.plan!))).toBe(true);
    expect(w.kube.objects.size).toBe(count);
  });
});

describe('state', () => {
  it('a malformed secrets file is an error naming it; nothing is applied', async () => {
    const w = world(dir);
    const { mkdirSync, writeFileSync } = await import('node:fs');
    mkdirSync(join(dir, 'state'), { recursive: true });
    writeFileSync(join(dir, 'state', WORKLOAD_SECRETS_FILE), '{"jwtSecret": "short"}');
    const result = await runWorkloadsPhase(options(w, labInventory()));
    expect(result.ok).toBe(false);
    expect(result.error).toContain(`The workload secret jwtSecret in ${join(dir, 'state', WORKLOAD_SECRETS_FILE)} is malformed`);
    expect(w.transport.runs).toEqual([]);
    expect(w.kube.kubectl.queries).toEqual([]);
  });

  it('a lost secrets file is rebuilt from the Secrets in the cluster, not regenerated (MongoDB keeps its first password)', async () => {
    const w = world(dir);
    await runWorkloadsPhase(options(w, labInventory()));
    const first = storedSecrets(dir);
    rmSync(join(dir, 'state', WORKLOAD_SECRETS_FILE));
    const again = await runWorkloadsPhase(options(w, labInventory(), { random: deterministicRandom('another-seed') }));
    expect(again.error).toBeUndefined();
    expect(again.changed).toBe(false);
    expect(storedSecrets(dir)).toEqual(first);
    expect(statSync(join(dir, 'state', WORKLOAD_SECRETS_FILE)).mode & 0o777).toBe(0o600);
    expect(w.events).toContainEqual({
      type: 'info',
      message: `The workload secrets were missing from ${join(dir, 'state', WORKLOAD_SECRETS_FILE)}; took the ones the cluster's Secrets hold and saved them there (mode 0600).`,
    });
  });

  it("with monitoring off and the file lost, only Grafana's password is new", async () => {
    const w = world(dir);
    await runWorkloadsPhase(options(w, labInventory({ workloads: { monitoring: false } })));
    const first = storedSecrets(dir);
    rmSync(join(dir, 'state', WORKLOAD_SECRETS_FILE));
    await runWorkloadsPhase(options(w, labInventory({ workloads: { monitoring: false } }), { random: deterministicRandom('another-seed') }));
    const again = storedSecrets(dir);
    expect({ ...again, grafanaAdminPassword: '' }).toEqual({ ...first, grafanaAdminPassword: '' });
    expect(again.grafanaAdminPassword).not.toBe(first.grafanaAdminPassword);
  });

  it('the uploaded YAML holds the stored secrets, base64 as Kubernetes wants', async () => {
    const w = world(dir);
    await runWorkloadsPhase(options(w, labInventory()));
    const secrets = storedSecrets(dir);
    const revueYaml = w.transport.writes.find((x) => x.path.endsWith('apply-revue.yaml'))!.content.toString();
    const docs = yaml.loadAll(revueYaml) as { kind: string; metadata: { name: string }; data?: Record<string, string> }[];
    const tokens = docs.find((d) => d.kind === 'Secret' && d.metadata.name === 'revue-tokens')!;
    expect(Buffer.from(tokens.data!.JWT_SECRET!, 'base64').toString()).toBe(secrets.jwtSecret);
    expect(revueYaml).not.toContain(secrets.jwtSecret);
  });
});
