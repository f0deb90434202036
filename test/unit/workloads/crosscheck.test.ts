import { describe, expect, it } from 'vitest';
import yaml from 'js-yaml';
import { deterministicRandom } from '../../fakes/deterministic-random.js';
import { type K8sObject, podSpecOf, renderWorkloads, synthYaml } from '../../../workloads/render.js';
import { hasPinnedTag } from '../../../core/inventory/images.js';
import { parseCpu, parseMemory } from '../../../workloads/checks.js';
import { allSecretValues, generateWorkloadSecrets } from '../../../workloads/secrets.js';
import { labInventory } from './helpers.js';

/**
 * Cross-checks over the whole rendered set: the references between objects resolve, and the hardening rules hold
 * for every container. Each check collects every offender, so a failure names them all.
 */

const secrets = generateWorkloadSecrets(deterministicRandom('crosscheck'));
const objects = renderWorkloads(labInventory(), { secrets });

/** Objects the cluster creates itself at run time and that the bundle may therefore reference. */
const CREATED_AT_RUN_TIME = new Set([
  'Secret metallb-system/memberlist', // MetalLB's controller creates the memberlist key on start
]);

const id = (o: K8sObject) => `${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`;
const exists = (kind: string, namespace: string | undefined, name: string) =>
  objects.some((o) => o.kind === kind && o.metadata.name === name && (o.metadata.namespace ?? '') === (namespace ?? '')) ||
  CREATED_AT_RUN_TIME.has(`${kind} ${namespace ?? ''}/${name}`);

interface Port {
  name?: string;
  containerPort: number;
  protocol?: string;
}

function podTemplates(): { owner: K8sObject; labels: Record<string, string>; spec: NonNullable<ReturnType<typeof podSpecOf>> }[] {
  return objects.flatMap((o) => {
    const spec = podSpecOf(o);
    if (!spec) return [];
    const labels = ((o.spec as any).template.metadata?.labels ?? {}) as Record<string, string>;
    return [{ owner: o, labels, spec }];
  });
}

function allContainers() {
  return podTemplates().flatMap((t) => [...t.spec.containers, ...(t.spec.initContainers ?? [])].map((c) => ({ owner: t.owner, c: c as any })));
}

describe('cross-checks over the rendered set', () => {
  it('every Service selects a pod template in its namespace that serves each target port', () => {
    const problems: string[] = [];
    for (const svc of objects.filter((o) => o.kind === 'Service')) {
      const spec = svc.spec as { selector?: Record<string, string>; ports: { name?: string; port: number; targetPort?: number | string; protocol?: string }[] };
      if (!spec.selector) continue;
      const matches = podTemplates().filter(
        (t) => t.owner.metadata.namespace === svc.metadata.namespace && Object.entries(spec.selector!).every(([k, v]) => t.labels[k] === v),
      );
      if (matches.length === 0) {
        problems.push(`${id(svc)} selects no pod template`);
        continue;
      }
      for (const p of spec.ports) {
        const target = p.targetPort ?? p.port;
        const served = matches.some((t) =>
          t.spec.containers.some((c) =>
            ((c.ports ?? []) as Port[]).some(
              (cp) => (typeof target === 'number' ? cp.containerPort === target : cp.name === target) && (cp.protocol ?? 'TCP') === (p.protocol ?? 'TCP'),
            ),
          ),
        );
        if (!served) problems.push(`${id(svc)} port ${p.name ?? p.port} → ${target} is served by no container`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('every HPA targets an existing Deployment whose containers all request CPU', () => {
    const hpas = objects.filter((o) => o.kind === 'HorizontalPodAutoscaler');
    expect(hpas.length).toBe(10);
    const problems: string[] = [];
    for (const hpa of hpas) {
      const ref = (hpa.spec as any).scaleTargetRef;
      const target = objects.find((o) => o.kind === ref.kind && o.metadata.name === ref.name && o.metadata.namespace === hpa.metadata.namespace);
      if (!target || ref.kind !== 'Deployment') {
        problems.push(`${id(hpa)} targets missing ${ref.kind} ${ref.name}`);
        continue;
      }
      for (const c of podSpecOf(target)!.containers as any[]) {
        if (!c.resources?.requests?.cpu) problems.push(`${id(hpa)}: ${id(target)} container ${c.name} requests no CPU`);
      }
    }
    // One autoscaler per Deployment at most.
    const targets = hpas.map((h) => (h.spec as any).scaleTargetRef.name);
    expect(new Set(targets).size).toBe(targets.length);
    expect(problems).toEqual([]);
  });

  it("every route's Service exists in the route's namespace and has the port", () => {
    const routes = objects.filter((o) => o.kind === 'IngressRoute');
    const problems: string[] = [];
    for (const r of routes) {
      for (const route of (r.spec as any).routes) {
        for (const s of route.services) {
          const svc = objects.find((o) => o.kind === 'Service' && o.metadata.name === s.name && o.metadata.namespace === r.metadata.namespace);
          if (svc) {
            if (!(svc.spec as any).ports.some((p: any) => p.port === s.port || p.name === s.port))
              problems.push(`${id(r)} → ${s.name}:${s.port}: no such port`);
            continue;
          }
          // Services made by the HelmCharts (they are not in the rendered set): the chart's documented Service names.
          const chartServices: Record<string, { release: string; port: number }> = {
            'prometheus-server': { release: 'prometheus', port: 80 },
            grafana: { release: 'grafana', port: 80 },
          };
          const chart = chartServices[s.name];
          const release =
            chart &&
            objects.find((o) => o.kind === 'HelmChart' && o.metadata.name === chart.release && (o.spec as any).targetNamespace === r.metadata.namespace);
          if (!release || chart.port !== s.port) problems.push(`${id(r)} → ${s.name}:${s.port}: no such Service`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('every referenced PVC, ConfigMap and Secret exists (optional ones excepted)', () => {
    const problems: string[] = [];
    const need = (owner: K8sObject, kind: string, name: string, optional?: boolean) => {
      if (!optional && !exists(kind, owner.metadata.namespace, name)) problems.push(`${id(owner)} needs ${kind} ${name}`);
    };
    for (const t of podTemplates()) {
      for (const v of (t.spec.volumes ?? []) as any[]) {
        if (v.persistentVolumeClaim) need(t.owner, 'PersistentVolumeClaim', v.persistentVolumeClaim.claimName);
        if (v.configMap) need(t.owner, 'ConfigMap', v.configMap.name, v.configMap.optional);
        if (v.secret) need(t.owner, 'Secret', v.secret.secretName, v.secret.optional);
      }
      for (const c of t.spec.containers as any[]) {
        for (const e of c.env ?? []) {
          if (e.valueFrom?.secretKeyRef) {
            const ref = e.valueFrom.secretKeyRef;
            need(t.owner, 'Secret', ref.name, ref.optional);
            const secret = objects.find((o) => o.kind === 'Secret' && o.metadata.name === ref.name && o.metadata.namespace === t.owner.metadata.namespace);
            if (secret && !Object.keys((secret as any).data ?? {}).includes(ref.key))
              problems.push(`${id(t.owner)} needs key ${ref.key} of Secret ${ref.name}`);
          }
          if (e.valueFrom?.configMapKeyRef) need(t.owner, 'ConfigMap', e.valueFrom.configMapKeyRef.name, e.valueFrom.configMapKeyRef.optional);
        }
        for (const m of c.volumeMounts ?? []) {
          if (!(t.spec.volumes as any[] | undefined)?.some((v) => v.name === m.name)) problems.push(`${id(t.owner)} mounts undeclared volume ${m.name}`);
        }
      }
    }
    // Grafana's admin Secret, referenced from the chart values.
    const grafana = objects.find((o) => o.kind === 'HelmChart' && o.metadata.name === 'grafana')!;
    const gv = yaml.load((grafana.spec as any).valuesContent) as any;
    if (!exists('Secret', (grafana.spec as any).targetNamespace, gv.admin.existingSecret)) problems.push('grafana: admin Secret missing');
    expect(problems).toEqual([]);
  });

  it('every container has CPU and memory requests and limits, limits at or above requests', () => {
    const problems: string[] = [];
    for (const { owner, c } of allContainers()) {
      for (const k of ['requests', 'limits'] as const) {
        for (const r of ['cpu', 'memory'] as const) {
          if (c.resources?.[k]?.[r] === undefined) problems.push(`${id(owner)} ${c.name}: no ${r} ${k}`);
        }
      }
      const req = c.resources?.requests ?? {};
      const lim = c.resources?.limits ?? {};
      if (req.cpu && lim.cpu && parseCpu(lim.cpu) < parseCpu(req.cpu)) problems.push(`${id(owner)} ${c.name}: cpu limit below request`);
      if (req.memory && lim.memory && parseMemory(lim.memory) < parseMemory(req.memory)) problems.push(`${id(owner)} ${c.name}: memory limit below request`);
    }
    expect(problems).toEqual([]);
  });

  it('every container serving a port has a readiness probe, and a liveness probe', () => {
    const problems: string[] = [];
    for (const { owner, c } of allContainers()) {
      if (!c.ports?.length) continue;
      if (!c.readinessProbe) problems.push(`${id(owner)} ${c.name}: no readinessProbe`);
      if (!c.livenessProbe) problems.push(`${id(owner)} ${c.name}: no livenessProbe`);
    }
    expect(problems).toEqual([]);
  });

  it('no image is :latest or untagged, and every pull policy is IfNotPresent', () => {
    const problems = allContainers()
      .filter(({ c }) => !hasPinnedTag(c.image) || c.imagePullPolicy !== 'IfNotPresent')
      .map(({ owner, c }) => `${id(owner)} ${c.name}: ${c.image} ${c.imagePullPolicy}`);
    expect(problems).toEqual([]);
    expect(synthYaml(objects)).not.toMatch(/:latest\b/);
  });

  it('secrets appear only in Secrets: not in ConfigMaps, literal env values, chart values or annotations', () => {
    const nonSecrets = synthYaml(objects.filter((o) => o.kind !== 'Secret'));
    const leaked = allSecretValues(secrets).filter((v) => nonSecrets.includes(v) || nonSecrets.includes(Buffer.from(v).toString('base64')));
    expect(leaked).toEqual([]);
    // Any env var that holds a secret is a secretKeyRef, never a literal (names of secrets and their paths excepted, and
    // ALLOW_* switches such as ZooKeeper's ALLOW_EMPTY_PASSWORD=yes, which hold yes/no).
    const literal = allContainers().flatMap(({ owner, c }) =>
      ((c.env ?? []) as any[])
        .filter(
          (e) =>
            /PASSWORD|SECRET|TOKEN|API_KEY/.test(e.name) &&
            !/_(NAME|PATH)$/.test(e.name) &&
            !(/^ALLOW_/.test(e.name) && /^(yes|no)$/.test(e.value)) &&
            !e.valueFrom?.secretKeyRef,
        )
        .map((e) => `${id(owner)} ${e.name}`),
    );
    expect(literal).toEqual([]);
  });

  it('each Revue service gets its own database password and the shared app secrets', () => {
    for (const s of ['alarm', 'auth', 'device', 'location', 'log', 'notification', 'user']) {
      const d = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === `revue-${s}`)!;
      const names = ((podSpecOf(d)!.containers[0] as any).env as any[]).map((e) => e.name);
      expect(names).toEqual(
        expect.arrayContaining([
          `${s.toUpperCase()}_DB_PASSWORD`,
          'JWT_SECRET',
          'JWT_REFRESH_SECRET',
          'DEV_API_KEY',
          'AUTH_BEARER_TOKEN',
          'CAMERA_BEARER_TOKEN',
        ]),
      );
    }
  });

  it('is deterministic: the same inventory renders the same bytes, whatever the input order', () => {
    const again = renderWorkloads(labInventory(), { secrets });
    expect(synthYaml(again)).toBe(synthYaml(objects));
    const shuffled = [...objects].reverse();
    expect(synthYaml(shuffled)).toBe(synthYaml(objects));
  });
});
