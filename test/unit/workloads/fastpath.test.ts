import { readFileSync } from 'node:fs';
import { beforeEach, describe, expect, it } from 'vitest';
import { appliedRecordOf, parseAppliedRecord } from '../../../workloads/applied-record.js';
import { buildFastCheckCommand } from '../../../workloads/fastpath.js';
import { revuePiVersion } from '../../../workloads/fastpath-check.js';
import { runWorkloadsPhase } from '../../../workloads/phase.js';
import { ARMV82_LABEL, PHASES, renderWorkloads } from '../../../workloads/render.js';
import { deterministicRandom } from '../../fakes/deterministic-random.js';
import type { KubeObject } from '../../fakes/fake-kube.js';
import { labInventory, options, storedSecrets, world, type World } from './helpers.js';
import { tempDir } from '../../fakes/temp-dir.js';

/**
 * The no-op fast path as run: runWorkloadsPhase against the scripted Kubernetes (FakeKube, a TEST DOUBLE; its reads a
 * FakeKubectl): taken when converged, not taken for each kind of difference, the record written only after a
 * complete apply. The pure parts are in fastpath-decide.test.ts.
 */
const RECORD_KEY = '/ConfigMap/kube-system/revue-pi-applied';
let dir: string;
beforeEach(() => {
  dir = tempDir('fastpath');
});

/** A converged cluster: one complete up, then the transport's counters cleared. */
async function converged(inventory = labInventory()): Promise<World> {
  const w = world(dir);
  const first = await runWorkloadsPhase(options(w, inventory));
  expect(first.error).toBeUndefined();
  expect(first.fastPath).toEqual({ taken: false, reason: 'no record of a previous complete apply' });
  w.transport.runs.length = 0;
  w.transport.writes.length = 0;
  w.kube.applies.length = 0;
  w.kube.deletes.length = 0;
  w.kube.labelCommands.length = 0;
  w.kube.fastChecks = 0;
  w.kube.kubectl.queries.length = 0;
  return w;
}

function record(w: World): KubeObject & { data: Record<string, string> } {
  return w.kube.objects.get(RECORD_KEY) as KubeObject & { data: Record<string, string> };
}

describe('up on a converged cluster', () => {
  it('takes the fast path: one round trip, nothing uploaded, applied, labelled or deleted; every phase unchanged', async () => {
    const inventory = labInventory();
    const w = await converged(inventory);
    const secrets = storedSecrets(dir);
    const result = await runWorkloadsPhase(options(w, inventory, { random: deterministicRandom('another-seed') }));
    expect(result.error).toBeUndefined();
    expect(result.fastPath).toEqual({ taken: true });
    expect(result.changed).toBe(false);
    expect(w.transport.runs.map((r) => r.script)).toEqual([buildFastCheckCommand(renderWorkloads(inventory, { secrets })).text]);
    expect(w.kube.kubectl.queries).toEqual([]); // and no read of the API besides it
    expect(w.transport.writes).toEqual([]);
    expect(w.kube.applies).toEqual([]);
    expect(w.kube.deletes).toEqual([]);
    const total = renderWorkloads(inventory, { secrets }).length;
    expect(result.phases.map((p) => [p.phase, p.status])).toEqual(PHASES.map((p) => [p, 'unchanged']));
    expect(result.phases.reduce((n, p) => n + p.unchanged, 0)).toBe(total);
    expect(result.summary).toBe(
      `nothing changed: ${total} objects: 0 created, 0 configured, ${total} unchanged; 0 node labels set; 0 removed (as last applied, all ready: not re-applied)`,
    );
    expect(result.capacity?.verdict).toBe('ok');
    expect(w.events).toContainEqual({ type: 'info', message: result.capacity!.messages[0] });
    expect(result.access?.ingressAddress).toBe('192.168.50.240');
    expect(storedSecrets(dir)).toEqual(secrets);
  });

  it('reads the address MetalLB gave Traefik from the same round trip when the inventory fixes none', async () => {
    const inventory = labInventory({ network: { addresses: {} } });
    const w = await converged(inventory);
    w.kube.traefikIp = '192.168.50.244';
    const result = await runWorkloadsPhase(options(w, inventory));
    expect(result.fastPath).toEqual({ taken: true });
    expect(w.transport.runs).toHaveLength(1);
    expect(w.kube.kubectl.queries).toEqual([]);
    expect(result.access?.ingressAddress).toBe('192.168.50.244');
  });

  it('plan says "nothing to change" from the same check, without listing for a prune', async () => {
    const w = await converged();
    const result = await runWorkloadsPhase(options(w, labInventory(), { command: 'plan' }));
    expect(result.fastPath).toEqual({ taken: true });
    expect(result.changed).toBe(false);
    expect(w.transport.runs).toHaveLength(1);
    expect(w.kube.kubectl.queries).toEqual([]);
    expect(
      result.phases.every(
        (p) => p.status === 'unchanged' && p.plan === `nothing to apply (${p.phase}): ${p.objects} objects as last applied, all ready (not re-applied)`,
      ),
    ).toBe(true);
    expect(result.summary).toMatch(/^nothing to change: \d+ objects in 5 phases as last applied, all ready; 0 node labels to set; 0 objects to remove$/);
  });

  it('reapply skips the check and applies every phase', async () => {
    const w = await converged();
    const result = await runWorkloadsPhase(options(w, labInventory(), { reapply: true }));
    expect(result.fastPath).toBeUndefined();
    expect(w.kube.fastChecks).toBe(0);
    expect(w.kube.applies.map((a) => a.path.replace(/^.*apply-|\.yaml$/g, ''))).toEqual([...PHASES, 'record']);
    expect(result.changed).toBe(false);
  });
});

describe('the fast path is not taken, and the full path runs, when', () => {
  const cases: [string, (w: World) => void, RegExp][] = [
    [
      'a phase hash differs from the record',
      (w) => (record(w).data.phases = record(w).data.phases!.replace(/"revue":"[0-9a-f]+"/, '"revue":"00"')),
      /^the revue manifests differ from the last apply$/,
    ],
    ['another revue-pi version applied', (w) => (record(w).data.version = '0.0.1'), /^revue-pi changed since the last apply \(0\.0\.1 → /],
    ['the record is malformed', (w) => (record(w).data.phases = '['), /^the record kube-system\/revue-pi-applied is malformed$/],
    [
      'an object was deleted by hand',
      (w) => w.kube.objects.delete('apps/Deployment/revue/revue-auth'),
      /^1 object\(s\) missing from the cluster \(apps\/Deployment\/revue\/revue-auth\)$/,
    ],
    [
      'a managed object the render no longer has is live',
      (w) =>
        w.kube.objects.set('/ConfigMap/revue/leftover', {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: 'leftover', namespace: 'revue', labels: { 'app.kubernetes.io/managed-by': 'revue-pi' } },
        }),
      /^1 object\(s\) to remove \(\/ConfigMap\/revue\/leftover\)$/,
    ],
    ['a node label differs', (w) => (w.kube.nodes['pi-3']![ARMV82_LABEL] = 'true'), /^node pi-3 needs the label revue-pi\.io\/armv82=false$/],
    [
      'a workload is not ready',
      (w) => w.kube.stuck.set('Deployment/revue/revue-auth', { observedGeneration: 1, replicas: 1, updatedReplicas: 1, availableReplicas: 0 }),
      /^not everything is ready \(Deployment revue\/revue-auth: 0 of 1 replicas available\)$/,
    ],
    [
      'the helm-install Jobs have not succeeded',
      (w) => (w.kube.helmJobsDone = false),
      /^not everything is ready \(Job kube-system\/helm-install-grafana: K3s has not created it yet/,
    ],
    [
      'the Jobs succeeded but the monitoring releases run none of their workloads (what status reports missing)',
      (w) => (w.kube.releasesRun = false),
      /^not everything is ready \(Deployment monitoring\/grafana: missing although Job kube-system\/helm-install-grafana succeeded; Deployment monitoring\/prometheus-server: missing/,
    ],
    [
      'a release workload is not ready',
      (w) =>
        w.kube.stuck.set('DaemonSet/monitoring/prometheus-prometheus-node-exporter', {
          observedGeneration: 1,
          desiredNumberScheduled: 3,
          updatedNumberScheduled: 3,
          numberReady: 2,
          numberAvailable: 2,
        }),
      /^not everything is ready \(DaemonSet monitoring\/prometheus-prometheus-node-exporter: 2 of 3 pods ready\)$/,
    ],
    [
      'the install Job was made for another version of the chart than the rendered one',
      (w) =>
        w.kube.helmJobEnv.set('prometheus', [
          { name: 'CHART', value: 'prometheus/prometheus' },
          { name: 'VERSION', value: '25.0.0' },
        ]),
      /^not everything is ready \(Job kube-system\/helm-install-prometheus: it installs an earlier spec \(version 25\.0\.0 \(the chart: 29\.27\.0\)\); K3s replaces it\)$/,
    ],
  ];

  it.each(cases)('%s', async (_name, change, reason) => {
    const w = await converged();
    change(w);
    if (w.kube.stuck.size > 0 || !w.kube.helmJobsDone || !w.kube.releasesRun || w.kube.helmJobEnv.size > 0) {
      // Nothing changes them back here: the full path times out (quickly) and leaves no record.
      const result = await runWorkloadsPhase(options(w, labInventory(), { phaseTimeoutMs: 50 }));
      expect(result.fastPath?.taken).toBe(false);
      expect(result.fastPath?.reason).toMatch(reason);
      expect(result.ok).toBe(false);
      expect(w.kube.objects.has(RECORD_KEY)).toBe(false);
      return;
    }
    const result = await runWorkloadsPhase(options(w, labInventory()));
    expect(result.error).toBeUndefined();
    expect(result.fastPath?.taken).toBe(false);
    expect(result.fastPath?.reason).toMatch(reason);
    // The full path ran: every phase applied (the record removed first, written again at the end).
    expect(w.kube.applies.map((a) => a.path.replace(/^.*apply-|\.yaml$/g, ''))).toEqual([...PHASES, 'record']);
    expect(w.kube.deletes[0]).toBe('configmap kube-system/revue-pi-applied');
    expect(parseAppliedRecord(record(w))).toEqual(appliedRecordOf(renderWorkloads(labInventory(), { secrets: storedSecrets(dir) }), revuePiVersion()));
    // And the run after it is fast again.
    const again = await runWorkloadsPhase(options(w, labInventory()));
    expect(again.fastPath).toEqual({ taken: true });
  });

  it('the cluster does not serve a rendered kind (the check fails): full path', async () => {
    const w = await converged();
    w.transport.on(
      /^\(\nfc=\/run\/revue-pi-fast-check/,
      { code: 1, stdout: '', stderr: 'error: the server doesn\'t have a resource type "ipaddresspool"\n' },
      { before: true, times: 1 },
    );
    const result = await runWorkloadsPhase(options(w, labInventory()));
    expect(result.error).toBeUndefined();
    expect(result.fastPath).toEqual({
      taken: false,
      reason: 'kubectl could not list the managed objects (exit 1): error: the server doesn\'t have a resource type "ipaddresspool"',
    });
    expect(w.kube.applies).toHaveLength(PHASES.length + 1);
    // Whether a record was there is unknown: it is removed before applying all the same.
    expect(w.kube.deletes[0]).toBe('configmap kube-system/revue-pi-applied');
  });
});

describe('the record', () => {
  it('is written after a complete apply, with every phase hash, the version and the applied objects; never pruned', async () => {
    const inventory = labInventory();
    const w = await converged(inventory);
    const rendered = renderWorkloads(inventory, { secrets: storedSecrets(dir) });
    expect(parseAppliedRecord(record(w))).toEqual(appliedRecordOf(rendered, JSON.parse(readFileSync('package.json', 'utf8')).version));
    expect(record(w).metadata.labels).toEqual({ 'app.kubernetes.io/managed-by': 'revue-pi' });
    const off = await runWorkloadsPhase(options(w, labInventory({ workloads: { monitoring: false } })));
    expect(off.fastPath?.reason).toBe('the monitoring phase is no longer rendered');
    expect(off.pruned).not.toContain('ConfigMap kube-system/revue-pi-applied');
    expect(Object.keys(JSON.parse(record(w).data.phases!) as object)).toEqual(['metallb', 'metallb-config', 'traefik', 'revue']);
  });

  it('is not written when an apply fails', async () => {
    const w = world(dir);
    w.kube.applyFailure = { contains: 'autoAssign: true', stderr: 'The IPAddressPool "lan" is invalid\n' };
    const result = await runWorkloadsPhase(options(w, labInventory()));
    expect(result.ok).toBe(false);
    expect(w.kube.objects.has(RECORD_KEY)).toBe(false);
    expect(w.kube.deletes).toEqual([]); // the check saw no record: nothing to remove first
    expect(w.transport.writes.map((x) => x.path)).not.toContain('/var/lib/rancher/revue-pi/apply-record.yaml');
  });

  it('is removed before a full apply, so a run that stops half-way leaves none (an inventory changed back is re-applied)', async () => {
    const w = await converged();
    w.kube.applyFailure = { contains: 'kind: Deployment', stderr: 'The Deployment "x" is invalid\n' };
    const failed = await runWorkloadsPhase(options(w, labInventory({ workloads: { kafkaUi: false } })));
    expect(failed.ok).toBe(false);
    expect(w.kube.objects.has(RECORD_KEY)).toBe(false);
    w.kube.applyFailure = undefined;
    const back = await runWorkloadsPhase(options(w, labInventory()));
    expect(back.fastPath).toEqual({ taken: false, reason: 'no record of a previous complete apply' });
    expect(back.ok).toBe(true);
    expect(w.kube.objects.has(RECORD_KEY)).toBe(true);
  });

  it('a record that cannot be written is a warning: the run still succeeds', async () => {
    const w = world(dir);
    w.transport.on(/apply-record\.yaml/, { code: 1, stdout: '', stderr: 'forbidden\n' }, { before: true });
    const result = await runWorkloadsPhase(options(w, labInventory()));
    expect(result.ok).toBe(true);
    expect(w.events).toContainEqual({
      type: 'warning',
      message: 'Could not record this apply on pi-1 (kubectl apply exited 1: forbidden); the next up applies everything again instead of skipping.',
    });
  });
});
