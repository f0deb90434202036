import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { formatHostsLines } from '../../../workloads/access.js';
import { REMOTE_APPLY_DIR } from '../../../workloads/apply.js';
import { runWorkloadsPhase } from '../../../workloads/phase.js';
import { WORKLOAD_SECRETS_FILE } from '../../../workloads/secrets-file.js';
import { ARMV82_LABEL, PHASES, renderWorkloads } from '../../../workloads/render.js';
import { allSecretValues } from '../../../workloads/secrets.js';
import { deterministicRandom } from '../../fakes/deterministic-random.js';
import { labInventory, options, storedSecrets, world } from './helpers.js';
import { tempDir } from '../../fakes/temp-dir.js';

/**
 * runWorkloadsPhase against a scripted Kubernetes (FakeKube, a TEST DOUBLE; its reads a FakeKubectl): what is
 * uploaded and applied, in which order, what a re-run does, pruning. The webhook race and timeouts are in
 * phase-waits.test.ts, capacity, plan and state in phase-plan.test.ts.
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
