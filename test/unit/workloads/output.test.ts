import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import yaml from 'js-yaml';
import { deterministicRandom } from '../../fakes/deterministic-random.js';
import { type K8sObject, dropNulls, loadManifestFile, renderWorkloads, synthYaml } from '../../../workloads/render.js';
import { planDirectory, renderToDirectory } from '../../../workloads/output.js';
import { generateWorkloadSecrets } from '../../../workloads/secrets.js';
import { labInventory } from './helpers.js';
import { tempDir } from '../../fakes/temp-dir.js';

describe('synthYaml', () => {
  it('orders keys apiVersion, kind, metadata first, drops nulls, never wraps lines', () => {
    const o = {
      spec: { z: 1, a: null, long: 'x'.repeat(300) },
      metadata: { labels: { b: '1' }, name: 'cm' },
      kind: 'ConfigMap',
      apiVersion: 'v1',
      data: { key: undefined },
    } as unknown as K8sObject;
    expect(synthYaml([o])).toBe(
      `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n  labels:\n    b: "1"\ndata: {}\nspec:\n  long: ${'x'.repeat(300)}\n  z: 1\n`,
    );
  });

  it('puts namespaces and CRDs first and separates documents with ---', () => {
    const cm: K8sObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'x' } };
    const ns: K8sObject = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x' } };
    const crd: K8sObject = { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'c.example.com' } };
    expect(
      synthYaml([cm, crd, ns])
        .split('---\n')
        .map((d) => (yaml.load(d) as K8sObject).kind),
    ).toEqual(['Namespace', 'CustomResourceDefinition', 'ConfigMap']);
  });

  it('keeps empty objects (a CRD’s `status: {}` subresource means something)', () => {
    expect(dropNulls({ subresources: { status: {} }, x: null, list: [1, null, 2] })).toEqual({ subresources: { status: {} }, list: [1, 2] });
  });

  it('keeps a YAML timestamp (a Date) as the timestamp it was', () => {
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'dated' }, data: { since: new Date('2024-05-01T00:00:00Z') } } as unknown as K8sObject;
    expect(dropNulls(cm)).toEqual(cm);
    expect(synthYaml([cm])).toContain('since: 2024-05-01T00:00:00.000Z\n');
  });

  it('round-trips: parsing the output gives the rendered objects back', () => {
    const objects = renderWorkloads(labInventory(), { secrets: 'references' });
    const parsed = yaml.loadAll(synthYaml(objects));
    expect(parsed).toEqual(objects.map((o) => dropNulls(o)));
  });

  it('matches the snapshot of the full lab render (secrets as references)', async () => {
    const objects = renderWorkloads(labInventory(), { secrets: 'references' });
    await expect(synthYaml(objects)).toMatchFileSnapshot('__snapshots__/lab-render.yaml');
  });
});

describe('renderToDirectory', () => {
  const secrets = generateWorkloadSecrets(deterministicRandom('output'));

  it('writes one file per apply phase and the Secrets alone in secrets.yaml, mode 0600', async () => {
    const dir = tempDir('render');
    const objects = renderWorkloads(labInventory(), { secrets });
    const written = await renderToDirectory(dir, objects);
    expect(written.map((p) => p.slice(dir.length + 1))).toEqual([
      '00-metallb.yaml',
      '10-metallb-config.yaml',
      '20-traefik.yaml',
      '30-monitoring.yaml',
      '40-revue.yaml',
      'secrets.yaml',
    ]);
    expect((await stat(join(dir, 'secrets.yaml'))).mode & 0o777).toBe(0o600);
    // Manifests without secrets are ordinary files: never writable by group or others.
    expect((await stat(join(dir, '40-revue.yaml'))).mode & 0o022).toBe(0);
    const secretDocs = yaml.loadAll(await readFile(join(dir, 'secrets.yaml'), 'utf8')) as K8sObject[];
    expect(secretDocs.every((d) => d.kind === 'Secret')).toBe(true);
    expect(secretDocs).toHaveLength(9);
    const rest = (await Promise.all(written.filter((p) => !p.endsWith('secrets.yaml')).map((p) => readFile(p, 'utf8')))).join('');
    expect(rest).not.toContain(Buffer.from(secrets.devApiKey).toString('base64'));
    // Everything rendered is written exactly once.
    const all = (await Promise.all(written.map((p) => readFile(p, 'utf8')))).flatMap((t) => yaml.loadAll(t));
    expect(all).toHaveLength(objects.length);
  });

  it('is byte-for-byte stable across runs and removes the files of a switched-off workload', async () => {
    const dir = tempDir('render');
    await renderToDirectory(dir, renderWorkloads(labInventory(), { secrets: 'references' }));
    const first = await readFile(join(dir, '40-revue.yaml'), 'utf8');
    await renderToDirectory(dir, renderWorkloads(labInventory(), { secrets: 'references' }));
    expect(await readFile(join(dir, '40-revue.yaml'), 'utf8')).toBe(first);
    await writeFile(join(dir, 'notes.txt'), 'mine');
    await renderToDirectory(dir, renderWorkloads(labInventory({ workloads: { monitoring: false } }), { secrets: 'references' }));
    expect((await readdir(dir)).sort()).toEqual(['00-metallb.yaml', '10-metallb-config.yaml', '20-traefik.yaml', '40-revue.yaml', 'notes.txt']);
  });

  it('plans without touching the disk', () => {
    const plan = planDirectory(renderWorkloads(labInventory({ workloads: { revue: false } }), { secrets }));
    expect([...plan.keys()]).toEqual(['00-metallb.yaml', '10-metallb-config.yaml', '20-traefik.yaml', '30-monitoring.yaml', 'secrets.yaml']);
    expect(plan.get('secrets.yaml')!.map((o) => o.metadata.name)).toEqual(['grafana-admin']);
  });
});

describe('loadManifestFile', () => {
  it('hands out a fresh copy each time (the render changes what it is given) and parses a changed file again', async () => {
    const root = tempDir('render');
    const { mkdir } = await import('node:fs/promises');
    await mkdir(join(root, 'workloads'));
    const file = join(root, 'workloads', 'cm.yaml');
    await writeFile(file, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: one\n');
    const first = loadManifestFile('cm.yaml', root);
    (first[0] as unknown as { data: Record<string, string> }).data.k = 'changed by a render';
    expect(loadManifestFile('cm.yaml', root)).toEqual([{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' }, data: { k: 'one' } }]);
    await writeFile(file, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: two\n');
    expect(loadManifestFile('cm.yaml', root)).toEqual([{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' }, data: { k: 'two' } }]);
  });
});
