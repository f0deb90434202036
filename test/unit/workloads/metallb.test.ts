import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import yaml from 'js-yaml';
import { METALLB_VERSION, resolveImages } from '../../../core/inventory/images.js';
import { type Patch, type PathStep, applyPatches, changedPaths, formatPath, isUnder, loadPatches } from '../../../workloads/patches.js';
import {
  type K8sObject,
  MANAGED_BY_LABEL,
  METALLB_MANIFEST,
  METALLB_PATCHES,
  PHASE_LABEL,
  dropNulls,
  objectsOfPhase,
  packageRoot,
  podSpecOf,
  renderWorkloads,
  synthYaml,
} from '../../../workloads/render.js';
import { labInventory } from './helpers.js';

/**
 * MetalLB is applied as its release publishes it (workloads/metallb/upstream, byte for byte) plus the declared patches
 * of workloads/metallb/patches.yaml, and nothing else: the render is diffed against the vendored file object by
 * object.
 */

const root = packageRoot();
const upstreamDir = join(root, 'workloads', 'metallb', 'upstream');
const vendoredText = readFileSync(join(root, 'workloads', METALLB_MANIFEST), 'utf8');
const vendored = (yaml.loadAll(vendoredText) as (K8sObject | null)[]).filter((d): d is K8sObject => d !== null);
const patches = loadPatches(METALLB_PATCHES, root);

const key = (o: K8sObject) => `${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`;

/** The metallb phase as `up` applies it: synthYaml's bytes, parsed back. */
function renderedMetallb(inventory = labInventory()): K8sObject[] {
  const objects = objectsOfPhase(renderWorkloads(inventory, { secrets: 'references' }), 'metallb');
  return yaml.loadAll(synthYaml(objects)) as K8sObject[];
}

/** Every render carries revue-pi's bookkeeping labels (pruning and the phased apply select on them). */
const BOOKKEEPING: PathStep[][] = [
  ['metadata', 'labels', MANAGED_BY_LABEL],
  ['metadata', 'labels', PHASE_LABEL],
];

/** The differences between the vendored objects and the rendered ones that no declared patch covers, as sentences. */
function undeclaredChanges(upstream: K8sObject[], rendered: K8sObject[], declared: Patch[]): string[] {
  const out: string[] = [];
  const byKey = new Map(rendered.map((o) => [key(o), o]));
  for (const u of upstream) {
    const r = byKey.get(key(u));
    byKey.delete(key(u));
    if (!r) {
      out.push(`${key(u)}: missing from the render`);
      continue;
    }
    const allowed = [...BOOKKEEPING, ...declared.filter((p) => p.target.kind === u.kind && p.target.name === u.metadata.name).map((p) => p.path)];
    // synthYaml drops nulls (the API server reads a null field as an absent one); see the null check below.
    for (const path of changedPaths(dropNulls(u), r)) {
      if (!allowed.some((a) => isUnder(path, a))) out.push(`${key(u)}: ${formatPath(path)} differs from upstream, and no patch declares it`);
    }
  }
  for (const extra of byKey.keys()) out.push(`${extra}: rendered, but not in the vendored manifest`);
  return out;
}

function nullPaths(value: unknown, path: string[] = []): string[] {
  if (value === null) return [path.join('.')];
  if (typeof value !== 'object') return [];
  return Object.entries(value as object).flatMap(([k, v]) => nullPaths(v, [...path, k]));
}

describe('the vendored MetalLB release manifest', () => {
  const provenance = JSON.parse(readFileSync(join(upstreamDir, 'provenance.json'), 'utf8')) as {
    tag: string;
    files: Record<string, { sha256: string }>;
  };

  it('is byte for byte the file provenance.json names, as is its licence (sha256), of the release images.ts pins', () => {
    expect(provenance.tag).toBe(METALLB_VERSION);
    expect(Object.keys(provenance.files).sort()).toEqual(['LICENSE', 'metallb-native.yaml']);
    for (const [file, { sha256 }] of Object.entries(provenance.files)) {
      expect(
        createHash('sha256')
          .update(readFileSync(join(upstreamDir, file)))
          .digest('hex'),
        file,
      ).toBe(sha256);
    }
  });

  it('holds one null, which the render drops: the webhook configuration’s creationTimestamp', () => {
    expect(vendored.flatMap((o) => nullPaths(o).map((p) => `${key(o)} ${p}`))).toEqual([
      'ValidatingWebhookConfiguration /metallb-webhook-configuration metadata.creationTimestamp',
    ]);
  });
});

describe('MetalLB as rendered: the vendored manifest plus the declared patches only', () => {
  it('differs from upstream only where a patch in patches.yaml says so', () => {
    expect(undeclaredChanges(vendored, renderedMetallb(), patches)).toEqual([]);
  });

  it('also with the inventory replacing both MetalLB images', () => {
    const inventory = labInventory({
      workloads: { images: { 'metallb-controller': 'mirror.lan/metallb/controller:v0.16.1-fix', 'metallb-speaker': 'mirror.lan/metallb/speaker:v0.16.1-fix' } },
    });
    const rendered = renderedMetallb(inventory);
    expect(undeclaredChanges(vendored, rendered, patches)).toEqual([]);
    const image = (kind: string, name: string) => podSpecOf(rendered.find((o) => o.kind === kind && o.metadata.name === name)!)!.containers[0]!.image;
    expect([image('Deployment', 'controller'), image('DaemonSet', 'speaker')]).toEqual([
      'mirror.lan/metallb/controller:v0.16.1-fix',
      'mirror.lan/metallb/speaker:v0.16.1-fix',
    ]);
  });

  it('catches a change no patch declares (the probe host of issue 13), a dropped field and an added object', () => {
    const rendered = renderedMetallb();
    const controller = podSpecOf(rendered.find((o) => o.kind === 'Deployment')!)!.containers[0] as Record<string, any>;
    controller.livenessProbe.httpGet.host = '127.0.0.1';
    delete (rendered.find((o) => o.metadata.name === 'bgppeers.metallb.io')!.spec as Record<string, unknown>).conversion;
    rendered.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'extra', namespace: 'metallb-system' } });
    expect(undeclaredChanges(vendored, rendered, patches)).toEqual([
      'CustomResourceDefinition /bgppeers.metallb.io: spec.conversion.strategy differs from upstream, and no patch declares it',
      'CustomResourceDefinition /bgppeers.metallb.io: spec.conversion.webhook.clientConfig.service.name differs from upstream, and no patch declares it',
      'CustomResourceDefinition /bgppeers.metallb.io: spec.conversion.webhook.clientConfig.service.namespace differs from upstream, and no patch declares it',
      'CustomResourceDefinition /bgppeers.metallb.io: spec.conversion.webhook.clientConfig.service.path differs from upstream, and no patch declares it',
      'CustomResourceDefinition /bgppeers.metallb.io: spec.conversion.webhook.conversionReviewVersions differs from upstream, and no patch declares it',
      'Deployment metallb-system/controller: spec.template.spec.containers[name=controller].livenessProbe.httpGet.host differs from upstream, and no patch declares it',
      'ConfigMap metallb-system/extra: rendered, but not in the vendored manifest',
    ]);
  });

  it('every declared patch holds in the render: the value it sets, or the pinned image', () => {
    const rendered = renderedMetallb();
    const images = resolveImages({ images: {} });
    const at = (o: unknown, path: PathStep[]): unknown =>
      path.reduce<unknown>(
        (node, s) => (typeof s === 'string' ? (node as Record<string, unknown>)?.[s] : (node as { name: string }[]).find((e) => e.name === s.name)),
        o,
      );
    expect(patches.length).toBe(6);
    for (const p of patches) {
      const target = rendered.filter((o) => o.kind === p.target.kind && o.metadata.name === p.target.name);
      expect(target, formatPath(p.path)).toHaveLength(1);
      expect(at(target[0], p.path), `${p.target.name} ${formatPath(p.path)}`).toEqual(p.image ? images[p.image] : p.value);
      expect(p.reason.length, 'every patch says why').toBeGreaterThan(10);
    }
  });
});

describe('applyPatches', () => {
  const deployment = (): K8sObject => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'controller' },
    spec: { template: { spec: { containers: [{ name: 'controller', image: 'quay.io/metallb/controller:v0.16.1' }] } } },
  });
  const images = resolveImages({ images: {} });
  const containerPath: PathStep[] = ['spec', 'template', 'spec', 'containers', { name: 'controller' }];

  it('sets values (creating missing objects on the way) and leaves its input alone', () => {
    const input = [deployment()];
    const [out] = applyPatches(
      input,
      [{ target: { kind: 'Deployment', name: 'controller' }, path: [...containerPath, 'resources', 'requests'], value: { cpu: '25m' }, reason: 'r' }],
      images,
    );
    expect(podSpecOf(out!)!.containers[0]!.resources).toEqual({ requests: { cpu: '25m' } });
    expect(input).toEqual([deployment()]);
  });

  it.each([
    [{ target: { kind: 'Deployment', name: 'other' }, path: ['spec'], value: 1, reason: 'r' }, /patch Deployment\/other spec: 0 objects match, not one/],
    [
      {
        target: { kind: 'Deployment', name: 'controller' },
        path: ['spec', 'template', 'spec', 'containers', { name: 'speaker' }, 'image'],
        value: 'x',
        reason: 'r',
      },
      /no single list element named speaker/,
    ],
    [
      { target: { kind: 'Deployment', name: 'controller' }, path: [...containerPath, 'image'], image: 'metallb-speaker', reason: 'r' },
      /the vendored manifest names quay\.io\/metallb\/controller:v0\.16\.1, but core\/inventory\/images\.ts pins quay\.io\/metallb\/speaker:v0\.16\.1/,
    ],
  ] as [Patch, RegExp][])('refuses a patch that does not fit the manifest: %j', (patch, message) => {
    expect(() => applyPatches([deployment()], [patch], images)).toThrow(message);
  });
});

describe('changedPaths', () => {
  it('names the leaves that differ, lists of named elements by name, other lists whole', () => {
    const a = { spec: { containers: [{ name: 'c', args: ['--a'], probe: { host: 'h', port: 1 } }] } };
    const b = { spec: { containers: [{ name: 'c', args: ['--b'], probe: { port: 1 }, extra: { x: 1 } }, { name: 'd' }] } };
    expect(changedPaths(a, b).map(formatPath)).toEqual([
      'spec.containers[name=c].args',
      'spec.containers[name=c].extra.x',
      'spec.containers[name=c].probe.host',
      'spec.containers[name=d].name',
    ]);
    expect(changedPaths(a, structuredClone(a))).toEqual([]);
    // Key order means nothing in a YAML mapping (synthYaml sorts keys): a list of unnamed mappings differs by content only.
    expect(
      changedPaths({ metrics: [{ type: 'Resource', resource: { name: 'cpu' } }] }, { metrics: [{ resource: { name: 'cpu' }, type: 'Resource' }] }),
    ).toEqual([]);
    expect(changedPaths({ metrics: [{ type: 'Resource' }] }, { metrics: [{ type: 'Pods' }] }).map(formatPath)).toEqual(['metrics']);
  });
});
