import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import yaml from 'js-yaml';
import { Ajv } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { DEFAULT_K3S_VERSION } from '../../../core/inventory/schema.js';
import { CHARTS } from '../../../core/inventory/images.js';
import { renderWorkloads, type K8sObject } from '../../../workloads/render.js';
import { K3S_RELEASE, TRAEFIK_CHART } from '../../../workloads/traefik/contract.js';
import { labInventory, minimalInventory } from './helpers.js';

/**
 * The values revue-pi hands to Helm charts, validated against each chart's own values.schema.json at the pinned
 * version (vendored byte for byte under test/schemas with the charts' licence):
 * - K3s's bundled Traefik, through the HelmChartConfig: the upstream chart K3s packages (traefik/traefik-helm-chart
 *   v40.1.0). Its schema forbids unknown top-level keys, so a misspelt or moved value fails here. K3s's package drops
 *   the schema, so nothing on the cluster would say so.
 * - Prometheus, through its HelmChart: Helm itself validates against this schema, and the install Job fails if the
 *   values do not match.
 */

const schemaFile = (path: string) => fileURLToPath(new URL(`../../schemas/${path}`, import.meta.url));
const traefikSchemaText = readFileSync(schemaFile('traefik/values.schema.json'));
/**
 * The chart's templates ignore keys they do not know, and its schema closes only the top level: objects that list
 * their properties are closed here too, so a misspelt nested key (ingressRoute.dashboard.matchrule) fails.
 */
function closeListedObjects(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(closeListedObjects);
  if (schema === null || typeof schema !== 'object') return schema;
  const s = Object.fromEntries(
    Object.entries(schema).map(([k, v]) => [
      k,
      k === 'properties' ? Object.fromEntries(Object.entries(v as object).map(([pk, pv]) => [pk, closeListedObjects(pv)])) : closeListedObjects(v),
    ]),
  ) as Record<string, unknown>;
  if (s.properties && s.additionalProperties === undefined && s.patternProperties === undefined) s.additionalProperties = false;
  return s;
}
const traefikValidator = new Ajv2020({ strict: false, allErrors: true }).compile(closeListedObjects(JSON.parse(traefikSchemaText.toString('utf8'))) as object);
// The Prometheus chart's schema declares "http://json-schema.org/schema#" (draft 4-style, no newer keywords): ajv's
// default draft reads it once the unknown meta-schema reference is dropped.
const prometheusSchema = JSON.parse(readFileSync(schemaFile('prometheus/values.schema.json'), 'utf8')) as Record<string, unknown>;
delete prometheusSchema.$schema;
const prometheusValidator = new Ajv({ strict: false, allErrors: true }).compile(prometheusSchema);

function valuesOf(objects: K8sObject[], kind: string, name: string): unknown {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`no ${kind} ${name} rendered`);
  return yaml.load((o.spec as { valuesContent: string }).valuesContent);
}

const errorsOf = (validate: { errors?: { instancePath: string; message?: string; params: unknown }[] | null }) =>
  (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`);

const renders: [string, () => K8sObject[]][] = [
  ['the lab inventory (fixed ingress address)', () => renderWorkloads(labInventory(), { secrets: 'references' })],
  ['a minimal inventory (no fixed address)', () => renderWorkloads(minimalInventory(), { secrets: 'references' })],
];

describe('K3s bundled Traefik: HelmChartConfig values against the chart schema', () => {
  it('the vendored schema is the chart release pinned in workloads/traefik/contract.ts, byte for byte', () => {
    expect(createHash('sha256').update(traefikSchemaText).digest('hex')).toBe(TRAEFIK_CHART.schemaSha256);
    // K3s packages upstream v40.1.0 as 40.1.4+up40.1.0 (the "+upX" part is the upstream version).
    expect(K3S_RELEASE.traefikChart.value.endsWith(`+up${TRAEFIK_CHART.version.slice(1)}`)).toBe(true);
  });

  it('the K3s release the contract describes is the one revue-pi installs by default', () => {
    expect(K3S_RELEASE.version.value).toBe(DEFAULT_K3S_VERSION);
  });

  it.each(renders)('%s: the rendered valuesContent validates', (_name, render) => {
    const values = valuesOf(render(), 'HelmChartConfig', 'traefik');
    expect(traefikValidator(values), errorsOf(traefikValidator).join('; ')).toBe(true);
  });

  it('the schema rejects what the chart would not take (so a pass means something)', () => {
    const values = valuesOf(renderWorkloads(labInventory(), { secrets: 'references' }), 'HelmChartConfig', 'traefik') as Record<string, any>;
    expect(traefikValidator({ ...values, ingressroute: values.ingressRoute })).toBe(false);
    expect(errorsOf(traefikValidator).join()).toMatch(/additional properties.*ingressroute/);
    expect(traefikValidator({ ...values, ingressRoute: { dashboard: { ...values.ingressRoute.dashboard, enabled: 'yes' } } })).toBe(false);
    expect(traefikValidator({ ...values, service: { annotations: 'metallb.io/loadBalancerIPs=1.2.3.4' } })).toBe(false);
    expect(traefikValidator({ ...values, ingressRoute: { dashboard: { ...values.ingressRoute.dashboard, matchrule: 'Host(`x`)' } } })).toBe(false);
  });
});

describe(`Prometheus chart ${CHARTS.prometheus.version}: HelmChart values against the chart schema`, () => {
  it.each(renders)('%s: the rendered valuesContent validates', (_name, render) => {
    const values = valuesOf(render(), 'HelmChart', 'prometheus');
    expect(prometheusValidator(values), errorsOf(prometheusValidator).join('; ')).toBe(true);
  });

  it('the schema rejects a wrongly typed value (so a pass means something)', () => {
    const values = valuesOf(renderWorkloads(labInventory(), { secrets: 'references' }), 'HelmChart', 'prometheus') as Record<string, any>;
    expect(prometheusValidator({ ...values, server: { ...values.server, retention: 3 } })).toBe(false);
    expect(prometheusValidator({ ...values, alertmanager: { enabled: 'no' } })).toBe(false);
  });
});
