import { readFileSync } from 'node:fs';
import { beforeEach, describe, expect, it } from 'vitest';
import { REMOTE_APPLY_DIR } from '../../../workloads/apply.js';
import { runWorkloadsPhase } from '../../../workloads/phase.js';
import { labInventory, options, world, type World } from './helpers.js';
import { tempDir } from '../../fakes/temp-dir.js';

/** runWorkloadsPhase on FakeKube (a TEST DOUBLE): MetalLB's webhook race and the bounded waits for readiness. */
let dir: string;
beforeEach(() => {
  dir = tempDir('workloads');
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
