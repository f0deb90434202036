import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import yaml from 'js-yaml';
import { type PathStep, changedPaths, formatPath } from '../../../workloads/patches.js';
import { type K8sObject, PHASE_LABEL, objectsOfPhase, packageRoot, renderWorkloads, synthYaml } from '../../../workloads/render.js';
import { labInventory } from './helpers.js';

/**
 * Revue's manifests are derived from the seed (revue-org/revue-kubernetes at 4d272d6, vendored byte for byte under
 * test/upstream/revue-kubernetes, only tests read it). workloads/revue/deviations.yaml declares, object by object,
 * where the render may differ from the seed; this test diffs the render against the seed and holds it to that list.
 * It is a declared-diff test: the render does not apply the list, it is checked against it.
 */

const root = packageRoot();
const seedDir = join(root, 'test', 'upstream', 'revue-kubernetes');
const specDir = join(seedDir, 'specifications');
const readmeText = readFileSync(join(root, 'workloads', 'README.md'), 'utf8');
const deviationsReadme = readmeText.slice(readmeText.indexOf('## Deliberate deviations'));

interface Reasoned {
  reason: string;
  /** A distinctive piece of the one-line reason in workloads/README.md's deviation list. */
  readme: string;
}
interface Deviations {
  seed: { repository: string; commit: string };
  everywhere: (Reasoned & { path: string })[];
  renamed: Record<string, string>;
  /** Seed object id → {seed container name: rendered name}; the diff then compares the container by its new name. */
  renamedContainers: Record<string, Record<string, string>>;
  kept: (Reasoned & { objects: string[]; paths: string[] })[];
  dropped: (Reasoned & { objects: string[] })[];
  added: (Reasoned & { objects: string[] })[];
}
const deviations = yaml.load(readFileSync(join(root, 'workloads', 'revue', 'deviations.yaml'), 'utf8')) as Deviations;

interface SeedObject {
  id: string;
  object: K8sObject;
}

/** Every object of the seed's specification files, named `Kind/name` (`Kind/name@dir/file` where a name repeats). */
function seedObjects(): SeedObject[] {
  const found: { id: string; file: string; object: K8sObject }[] = [];
  for (const d of readdirSync(specDir).sort()) {
    for (const f of readdirSync(join(specDir, d)).sort()) {
      for (const o of yaml.loadAll(readFileSync(join(specDir, d, f), 'utf8')) as (K8sObject | null)[]) {
        if (o) found.push({ id: `${o.kind}/${o.metadata.name}`, file: `${d}/${f}`, object: o });
      }
    }
  }
  return found.map((s) => ({ id: found.filter((t) => t.id === s.id).length > 1 ? `${s.id}@${s.file}` : s.id, object: s.object }));
}

/** The revue phase as `up` applies it: synthYaml's bytes, parsed back. */
function renderedRevue(): K8sObject[] {
  const all = renderWorkloads(labInventory({ workloads: { kafkaUi: true } }), { secrets: 'references' });
  return yaml.loadAll(synthYaml(objectsOfPhase(all, 'revue'))) as K8sObject[];
}

const glob = (pattern: string) =>
  new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\/]/g, '\\$&'))
      .join('.*')}$`,
  );
const matches = (patterns: string[], id: string) => patterns.some((p) => glob(p).test(id));

/** `a."b.c"[name=x].d` → steps: keys, quoted keys (they may hold dots), list elements by name (`[name=*]`: any). */
function parsePath(text: string): PathStep[] {
  const steps = [...text.matchAll(/"([^"]+)"|\[name=([^\]]+)\]|([^."[\]]+)/g)].map(([, quoted, name, key]) =>
    name !== undefined ? { name } : (quoted ?? key!),
  );
  const back = steps
    .map((s) => (typeof s === 'string' ? (s.includes('.') ? `"${s}"` : s) : `[name=${s.name}]`))
    .join('.')
    .replace(/\.\[/g, '[');
  if (back !== text) throw new Error(`deviations.yaml: cannot read the path ${text}`);
  return steps;
}

function withContainersRenamed(o: K8sObject, renames: Record<string, string>): K8sObject {
  const copy = structuredClone(o) as K8sObject & { spec?: { template?: { spec?: { containers?: { name: string }[] } } } };
  for (const c of copy.spec?.template?.spec?.containers ?? []) c.name = renames[c.name] ?? c.name;
  return copy;
}

function covers(prefix: PathStep[], path: PathStep[]): boolean {
  return (
    prefix.length <= path.length &&
    prefix.every((s, i) => {
      const t = path[i];
      return typeof s === 'string' ? s === t : typeof t === 'object' && (s.name === '*' || s.name === t.name);
    })
  );
}

/** Every way the render departs from the seed that deviations.yaml does not declare, as sentences. */
function undeclared(seed: SeedObject[], rendered: K8sObject[], d: Deviations, used = new Set<string>()): string[] {
  const out: string[] = [];
  const byId = new Map(rendered.map((o) => [`${o.kind}/${o.metadata.name}`, o]));
  for (const s of seed) {
    const isKept = d.kept.some((k) => matches(k.objects, s.id));
    const isDropped = d.dropped.some((k) => matches(k.objects, s.id));
    if (isKept === isDropped) {
      out.push(`${s.id}: seed object ${isKept ? 'both kept and dropped' : 'neither kept nor dropped'}`);
      continue;
    }
    const renderedId = d.renamed[s.id] ?? s.id.split('@')[0]!;
    const r = byId.get(renderedId);
    if (isDropped) {
      if (r) out.push(`${s.id}: declared dropped, but rendered`);
      continue;
    }
    byId.delete(renderedId);
    if (!r) {
      out.push(`${s.id}: declared kept, but not rendered as ${renderedId}`);
      continue;
    }
    const allowed = [
      ...d.everywhere.map((e) => e.path),
      ...d.kept.filter((k) => matches(k.objects, s.id)).flatMap((k) => k.paths),
      ...(d.renamed[s.id] ? ['metadata.name'] : []),
    ];
    for (const path of changedPaths(withContainersRenamed(s.object, d.renamedContainers[s.id] ?? {}), r)) {
      const by = allowed.filter((a) => covers(parsePath(a), path));
      by.forEach((a) => used.add(a));
      if (by.length === 0) out.push(`${s.id}: ${formatPath(path)} differs from the seed, and no deviation declares it`);
    }
  }
  for (const id of byId.keys()) {
    if (!d.added.some((a) => matches(a.objects, id))) out.push(`${id}: rendered, but neither matched to a seed object nor declared added`);
  }
  return out;
}

describe('the vendored seed (revue-org/revue-kubernetes)', () => {
  const provenance = JSON.parse(readFileSync(join(seedDir, 'provenance.json'), 'utf8')) as { commit: string; files: Record<string, { sha256: string }> };

  it('is byte for byte the files provenance.json names (sha256), all of them, at the commit deviations.yaml names', () => {
    expect(provenance.commit.startsWith(deviations.seed.commit)).toBe(true);
    const onDisk = ['LICENSE', ...readdirSync(specDir).flatMap((d) => readdirSync(join(specDir, d)).map((f) => `specifications/${d}/${f}`))].sort();
    expect(Object.keys(provenance.files).sort()).toEqual(onDisk);
    for (const [file, { sha256 }] of Object.entries(provenance.files)) {
      expect(
        createHash('sha256')
          .update(readFileSync(join(seedDir, file)))
          .digest('hex'),
        file,
      ).toBe(sha256);
    }
  });
});

describe('Revue as rendered against the seed: only declared deviations', () => {
  const seed = seedObjects();

  it('differs from the seed only where workloads/revue/deviations.yaml says so', () => {
    expect(undeclared(seed, renderedRevue(), deviations)).toEqual([]);
  });

  it('declares nothing that does not differ: every declared path covers a change', () => {
    const used = new Set<string>();
    undeclared(seed, renderedRevue(), deviations, used);
    const declared = [...deviations.everywhere.map((e) => e.path), ...deviations.kept.flatMap((k) => k.paths)];
    expect(declared.filter((p) => !used.has(p))).toEqual([]);
  });

  it('fails when a declared deviation is taken away: the changes it covered are reported', () => {
    const d: Deviations = structuredClone(deviations);
    d.kept = d.kept.map((k) => ({ ...k, paths: k.paths.filter((p) => p !== 'spec.template.spec.enableServiceLinks') }));
    const found = undeclared(seed, renderedRevue(), d);
    expect(found).toContain('Deployment/revue-auth: spec.template.spec.enableServiceLinks differs from the seed, and no deviation declares it');
    expect(found.every((f) => f.endsWith('spec.template.spec.enableServiceLinks differs from the seed, and no deviation declares it'))).toBe(true);
  });

  it('every declared deviation gives a reason found in the README’s deviation list, and every pattern is used', () => {
    const entries = [...deviations.everywhere, ...deviations.kept, ...deviations.dropped, ...deviations.added];
    for (const e of entries) {
      expect(e.reason.length, JSON.stringify(e)).toBeGreaterThan(10);
      expect(deviationsReadme, `README line for ${JSON.stringify(e)}`).toContain(e.readme);
    }
    const ids = seed.map((s) => s.id);
    for (const k of [...deviations.kept, ...deviations.dropped]) {
      for (const p of k.objects)
        expect(
          ids.some((id) => glob(p).test(id)),
          `${p} names a seed object`,
        ).toBe(true);
    }
  });

  it('catches an undeclared change, a seed object neither kept nor dropped, and an undeclared added object', () => {
    const rendered = renderedRevue();
    const auth = rendered.find((o) => o.kind === 'Service' && o.metadata.name === 'revue-auth')!;
    (auth.spec as { type?: string }).type = 'NodePort';
    const hpa = rendered.find((o) => o.kind === 'HorizontalPodAutoscaler' && o.metadata.name === 'revue-user-hpa')!;
    (hpa.spec as { maxReplicas: number }).maxReplicas = 9;
    rendered.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'extra', namespace: 'revue' } });
    const d: Deviations = structuredClone(deviations);
    d.dropped = d.dropped.map((e) => ({ ...e, objects: e.objects.filter((o) => o !== 'IngressRoute/kafka-broker-ingress') }));
    expect(undeclared(seed, rendered, d)).toEqual([
      'Service/revue-auth: spec.type differs from the seed, and no deviation declares it',
      'IngressRoute/kafka-broker-ingress: seed object neither kept nor dropped',
      'HorizontalPodAutoscaler/revue-user-hpa: spec.maxReplicas differs from the seed, and no deviation declares it',
      'ConfigMap/extra: rendered, but neither matched to a seed object nor declared added',
    ]);
  });

  it('the render carries the phase label it is selected by (the scope of this test)', () => {
    expect(renderedRevue().every((o) => o.metadata.labels?.[PHASE_LABEL] === 'revue')).toBe(true);
  });
});
