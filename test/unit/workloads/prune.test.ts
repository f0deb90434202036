import { describe, expect, it } from 'vitest';
import { objectKey, planPrune, refOf } from '../../../workloads/prune.js';
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
