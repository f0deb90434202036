import { describe, expect, it } from 'vitest';
import { buildDeleteDataCommands, dataLostWith, objectKey, planPrune, refOf, splitPrune, type ObjectRef } from '../../../workloads/prune.js';
import { renderWorkloads } from '../../../workloads/render.js';
import { labInventory } from './helpers.js';

describe('planPrune', () => {
  const full = renderWorkloads(labInventory(), { secrets: 'references' });
  const live = full.map(refOf);

  it('removes nothing on a re-run with the same inventory', () => {
    expect(planPrune(live, full)).toEqual([]);
  });

  it('removes every monitoring object when monitoring is switched off, namespace last', () => {
    const desired = renderWorkloads(labInventory({ workloads: { monitoring: false } }), { secrets: 'references' });
    const plan = planPrune(live, desired);
    expect(plan.map((r) => `${r.kind} ${r.namespace ?? ''}/${r.name}`)).toEqual([
      'IngressRoute monitoring/monitoring',
      'HelmChart kube-system/prometheus',
      'HelmChart kube-system/grafana',
      'Namespace /monitoring',
    ]);
  });

  it('removes kafka-ui alone when it is switched off, its route before its workload', () => {
    const desired = renderWorkloads(labInventory({ workloads: { kafkaUi: false } }), { secrets: 'references' });
    expect(planPrune(live, desired).map((r) => `${r.kind}/${r.name}`)).toEqual([
      'IngressRoute/revue-kafka-ui',
      'Deployment/revue-kafka-ui',
      'Service/revue-kafka-ui',
    ]);
  });

  it('never touches objects revue-pi did not label, even when the caller lists them', () => {
    const foreign = { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'revue', name: 'operator-notes', labels: { team: 'ops' } };
    const unlabelled = { apiVersion: 'v1', kind: 'Service', namespace: 'kube-system', name: 'traefik' };
    expect(planPrune([...live, foreign, unlabelled], full)).toEqual([]);
  });

  it('treats the same object under another API version as the same object', () => {
    const hpa = live.find((r) => r.kind === 'HorizontalPodAutoscaler')!;
    expect(objectKey({ ...hpa, apiVersion: 'autoscaling/v1' })).toBe(objectKey(hpa));
    expect(planPrune([{ ...hpa, apiVersion: 'autoscaling/v1' }], full)).toEqual([]);
  });
});

describe('removals that lose data (splitPrune): asked for on their own, kept by default', () => {
  const full = renderWorkloads(labInventory(), { secrets: 'references' });
  const live = full.map(refOf);
  const names = (refs: ObjectRef[]) => refs.map((r) => `${r.kind} ${r.namespace ?? ''}/${r.name}`);

  it.each([
    [{ apiVersion: 'v1', kind: 'PersistentVolumeClaim' }, 'its volume and the data on it are deleted with it'],
    [{ apiVersion: 'v1', kind: 'Namespace' }, 'everything in the namespace is deleted with it, volumes included'],
    [{ apiVersion: 'helm.cattle.io/v1', kind: 'HelmChart' }, "the chart is uninstalled, and its release's volumes with it"],
    [{ apiVersion: 'apps/v1', kind: 'StatefulSet' }, undefined], // its claims outlive it
    [{ apiVersion: 'apps/v1', kind: 'Deployment' }, undefined],
    [{ apiVersion: 'v1', kind: 'Secret' }, undefined],
    [{ apiVersion: 'helm.cattle.io/v1', kind: 'HelmChartConfig' }, undefined],
    [{ apiVersion: 'example.com/v1', kind: 'Namespace' }, undefined],
  ])('dataLostWith(%o) = %s', (ref, why) => {
    expect(dataLostWith(ref)).toBe(why);
  });

  it('Revue switched off: every volume claim, the namespace and its Secrets are data; Deployments, Services, routes, HPAs are not', () => {
    const desired = renderWorkloads(labInventory({ workloads: { revue: false } }), { secrets: 'references' });
    const withSecrets: ObjectRef[] = [...live, { apiVersion: 'v1', kind: 'Secret', namespace: 'revue', name: 'revue-auth-db', labels: live[0]!.labels! }];
    const { remove, data } = splitPrune(planPrune(withSecrets, desired));
    const claims = full.filter((o) => o.kind === 'PersistentVolumeClaim').map((o) => `PersistentVolumeClaim revue/${o.metadata.name}`);
    expect(claims.length).toBeGreaterThanOrEqual(7);
    expect(names(data).sort()).toEqual([...claims, 'Secret revue/revue-auth-db', 'Namespace /revue'].sort());
    expect(names(data)[data.length - 1]).toBe('Namespace /revue');
    expect(new Set(remove.map((r) => r.kind))).toEqual(new Set(['IngressRoute', 'HorizontalPodAutoscaler', 'Deployment', 'Service', 'ConfigMap']));
  });

  it('monitoring switched off: the charts (their releases hold volumes), the namespace and its Secret are data; the route is not', () => {
    const desired = renderWorkloads(labInventory({ workloads: { monitoring: false } }), { secrets: 'references' });
    const secret: ObjectRef = { apiVersion: 'v1', kind: 'Secret', namespace: 'monitoring', name: 'grafana-admin', labels: live[0]!.labels! };
    const { remove, data } = splitPrune(planPrune([...live, secret], desired));
    expect(names(remove)).toEqual(['IngressRoute monitoring/monitoring']);
    expect(names(data)).toEqual([
      'HelmChart kube-system/prometheus',
      'HelmChart kube-system/grafana',
      'Secret monitoring/grafana-admin',
      'Namespace /monitoring',
    ]);
  });

  it('kafka-ui switched off holds no data: everything goes without asking', () => {
    const desired = renderWorkloads(labInventory({ workloads: { kafkaUi: false } }), { secrets: 'references' });
    expect(splitPrune(planPrune(live, desired)).data).toEqual([]);
  });

  it('the commands that delete kept data by hand: one per namespace and kind, namespaces last, against the cluster context', () => {
    const refs: ObjectRef[] = [
      { apiVersion: 'helm.cattle.io/v1', kind: 'HelmChart', namespace: 'kube-system', name: 'prometheus' },
      { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: 'revue', name: 'revue-auth-data' },
      { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: 'revue', name: 'revue-user-data' },
      { apiVersion: 'v1', kind: 'Secret', namespace: 'revue', name: 'revue-auth-db' },
      { apiVersion: 'v1', kind: 'Namespace', name: 'revue' },
    ];
    expect(buildDeleteDataCommands('home', refs)).toEqual([
      'kubectl --context home -n kube-system delete helmchart.helm.cattle.io prometheus',
      'kubectl --context home -n revue delete persistentvolumeclaim revue-auth-data revue-user-data',
      'kubectl --context home -n revue delete secret revue-auth-db',
      'kubectl --context home delete namespace revue',
    ]);
  });
});
