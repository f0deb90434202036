import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import yaml from 'js-yaml';
import { Ajv, type ValidateFunction } from 'ajv';
import { deterministicRandom } from '../../fakes/deterministic-random.js';
import { type K8sObject, renderWorkloads } from '../../../workloads/render.js';
import { generateWorkloadSecrets } from '../../../workloads/secrets.js';
import { labInventory, minimalInventory } from './helpers.js';

/**
 * Every rendered object is validated against a real schema:
 * - core Kubernetes kinds with kubernetes-models (generated from the Kubernetes OpenAPI spec; 4.5.x covers 1.33, older
 *   than the K3s release installed by default, v1.36: the GA kinds rendered here are in both) — types, required
 *   fields, formats (quantities, ports);
 * - custom resources with ajv against the openAPIV3Schema of their real CRD: MetalLB's (from the vendored release
 *   manifest workloads/metallb/upstream/metallb-native.yaml, the ones installed), Traefik's IngressRoute and K3s's
 *   HelmChart/HelmChartConfig (copied with their licences into test/schemas). Unknown fields are errors here, as the
 *   API server would prune them.
 */

type ModelClass = new (data: unknown) => { validate(): void };

async function modelFor(apiVersion: string, kind: string): Promise<ModelClass | undefined> {
  // Core kinds are under kubernetes-models/v1, the others under kubernetes-models/<group>/<version>.
  const modulePath = `kubernetes-models/${apiVersion}`;
  try {
    const mod = (await import(modulePath)) as Record<string, unknown>;
    return mod[kind] as ModelClass | undefined;
  } catch {
    return undefined;
  }
}

/** Files holding CRDs (every CustomResourceDefinition in them is used). */
const CRD_FILES = [
  new URL('../../../workloads/metallb/upstream/metallb-native.yaml', import.meta.url),
  new URL('../../schemas/traefik/traefik.io_ingressroutes.yaml', import.meta.url),
  new URL('../../schemas/helm-controller/helm.cattle.io_helmcharts.yaml', import.meta.url),
  new URL('../../schemas/helm-controller/helm.cattle.io_helmchartconfigs.yaml', import.meta.url),
];

interface Crd {
  spec: { group: string; names: { kind: string }; versions: { name: string; schema: { openAPIV3Schema: Record<string, unknown> } }[] };
}

/** Unknown fields are pruned by the API server; make them errors so a typo cannot slip through silently. */
function closeObjects(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(closeObjects);
  if (schema === null || typeof schema !== 'object') return schema;
  const s = Object.fromEntries(
    Object.entries(schema).map(([k, v]) => [
      k,
      k === 'properties' ? Object.fromEntries(Object.entries(v as object).map(([pk, pv]) => [pk, closeObjects(pv)])) : closeObjects(v),
    ]),
  ) as Record<string, unknown>;
  if (s.properties && s.additionalProperties === undefined && !s['x-kubernetes-preserve-unknown-fields']) {
    // metadata is validated by the API server's ObjectMeta, not by the CRD schema.
    s.additionalProperties = false;
  }
  return s;
}

function crdValidators(): Map<string, ValidateFunction> {
  const ajv = new Ajv({ strict: false, validateFormats: false, allErrors: true });
  const out = new Map<string, ValidateFunction>();
  for (const url of CRD_FILES) {
    const docs = yaml.loadAll(readFileSync(fileURLToPath(url), 'utf8')) as ({ kind?: string } | null)[];
    for (const crd of docs.filter((d) => d?.kind === 'CustomResourceDefinition') as Crd[]) {
      for (const v of crd.spec.versions) {
        const schema = closeObjects(v.schema.openAPIV3Schema) as Record<string, any>;
        schema.properties.metadata = { type: 'object' };
        out.set(`${crd.spec.group}/${v.name} ${crd.spec.names.kind}`, ajv.compile(schema));
      }
    }
  }
  return out;
}

const crds = crdValidators();

async function problemsOf(o: K8sObject): Promise<string | undefined> {
  const crd = crds.get(`${o.apiVersion} ${o.kind}`);
  if (crd) {
    return crd(o) ? undefined : (crd.errors ?? []).map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`).join('; ');
  }
  const Model = await modelFor(o.apiVersion, o.kind);
  if (!Model) return `no schema known for ${o.apiVersion} ${o.kind}`;
  try {
    new Model(o).validate();
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

const secrets = generateWorkloadSecrets(deterministicRandom('schema'));

describe('schema validation of every rendered object', () => {
  it.each([
    ['the full lab inventory with secrets', () => renderWorkloads(labInventory(), { secrets })],
    ['a minimal inventory, secrets as references', () => renderWorkloads(minimalInventory(), { secrets: 'references' })],
  ])('%s', async (_name, render) => {
    const objects = render();
    expect(objects.length).toBeGreaterThan(50);
    const problems: string[] = [];
    for (const o of objects) {
      const p = await problemsOf(o);
      if (p) problems.push(`${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}: ${p}`);
    }
    expect(problems).toEqual([]);
  });

  it('the validators reject what the API server would (so a pass means something)', async () => {
    const badPool: K8sObject = { apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool', metadata: { name: 'x' }, spec: { addresses: 'not-a-list' } };
    expect(await problemsOf(badPool)).toMatch(/addresses/);
    const typo: K8sObject = {
      apiVersion: 'traefik.io/v1alpha1',
      kind: 'IngressRoute',
      metadata: { name: 'x' },
      spec: { routes: [{ match: 'Host(`a`)', kind: 'Rule', servcies: [] }] },
    };
    expect(await problemsOf(typo)).toMatch(/additional/);
    const badChart: K8sObject = { apiVersion: 'helm.cattle.io/v1', kind: 'HelmChart', metadata: { name: 'x' }, spec: { chart: 'c', timeout: 5 } };
    expect(await problemsOf(badChart)).toMatch(/timeout/);
    const badQuantity: K8sObject = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'x' },
      spec: {
        selector: { matchLabels: { a: 'b' } },
        template: { spec: { containers: [{ name: 'c', image: 'i:1', resources: { limits: { memory: '1 GB' } } }] } },
      },
    };
    expect(await problemsOf(badQuantity)).toMatch(/quantity/);
    expect(await problemsOf({ apiVersion: 'example.com/v1', kind: 'Nope', metadata: { name: 'x' } })).toMatch(/no schema known/);
  });
});
