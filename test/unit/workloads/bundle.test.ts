import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import yaml from 'js-yaml';
import { deterministicRandom } from '../../fakes/deterministic-random.js';
import { type K8sObject, packageRoot, podSpecOf, renderWorkloads } from '../../../workloads/render.js';
import { generateWorkloadSecrets } from '../../../workloads/secrets.js';
import { labInventory } from './helpers.js';

/** The data files themselves: all used, all shipped, names Kubernetes accepts, provenance kept. */

const root = packageRoot();
const workloads = join(root, 'workloads');

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? yamlFiles(join(dir, e.name)) : e.name.endsWith('.yaml') ? [relative(workloads, join(dir, e.name))] : [],
  );
}

/** YAML data files about the manifests (declared patches, upstream contracts), not manifests themselves. */
const isDataFile = (file: string) => /(^|\/)(patches|contract|deviations)\.yaml$/.test(file);
/** Vendored upstream files, byte for byte: they carry their release's image tags (image patches check them). */
const isVendored = (file: string) => file.split('/').includes('upstream');

describe('the bundled data files', () => {
  const full = renderWorkloads(labInventory(), { secrets: generateWorkloadSecrets(deterministicRandom('bundle')) });

  it('every document of every YAML file ends up in a full render (no dead files)', () => {
    const rendered = new Set(full.map((o) => `${o.kind}/${o.metadata.name}`));
    const missing: string[] = [];
    for (const file of yamlFiles(workloads).filter((f) => !isDataFile(f))) {
      for (const doc of yaml.loadAll(readFileSync(join(workloads, file), 'utf8')) as K8sObject[]) {
        if (!doc) continue;
        // The Revue namespace is renamed by the inventory; the lab inventory keeps the default.
        if (!rendered.has(`${doc.kind}/${doc.metadata.name}`)) missing.push(`${file}: ${doc.kind}/${doc.metadata.name}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('writes no image tag in our own YAML: tags live only in images.ts', () => {
    const tagged: string[] = [];
    for (const file of yamlFiles(workloads).filter((f) => !isVendored(f))) {
      for (const line of readFileSync(join(workloads, file), 'utf8').split('\n')) {
        const m = /^\s*image:\s*(\S+)/.exec(line);
        if (m && /:[^/]+$/.test(m[1]!)) tagged.push(`${file}: ${m[1]}`);
      }
    }
    expect(tagged).toEqual([]);
  });

  it('ships every data file, the vendored files with their licence and provenance, in the npm package', () => {
    const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8' });
    const files = new Set((JSON.parse(out) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path));
    const vendored = ['LICENSE', 'provenance.json'].map((f) => `workloads/metallb/upstream/${f}`);
    const notShipped = [...yamlFiles(workloads).map((f) => `workloads/${f}`), ...vendored].filter((f) => !files.has(f));
    expect(notShipped).toEqual([]);
  });

  it('uses names Kubernetes accepts: DNS labels, port names of at most 15 characters, unique env and port names', () => {
    const problems: string[] = [];
    const dnsLabel = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
    const portName = /^(?=.*[a-z])[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
    for (const o of full) {
      const id = `${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`;
      if (['Service', 'Namespace', 'Deployment', 'DaemonSet'].includes(o.kind) && (!dnsLabel.test(o.metadata.name) || o.metadata.name.length > 63)) {
        problems.push(`${id}: not a DNS label`);
      }
      for (const [k, v] of Object.entries(o.metadata.labels ?? {})) if (v.length > 63) problems.push(`${id}: label ${k} too long`);
      const ports = o.kind === 'Service' ? ((o.spec as any).ports as { name?: string }[]) : [];
      const pod = podSpecOf(o);
      for (const c of pod?.containers ?? []) {
        const envNames = (c.env ?? []).map((e) => e.name);
        if (new Set(envNames).size !== envNames.length) problems.push(`${id} ${c.name}: duplicate env names`);
        ports.push(...((c.ports ?? []) as { name?: string }[]));
      }
      for (const p of ports) if (p.name !== undefined && (!portName.test(p.name) || p.name.length > 15)) problems.push(`${id}: port name ${p.name}`);
      if (pod) {
        const names = pod.containers.flatMap((c) => ((c.ports ?? []) as { name?: string }[]).map((p) => p.name).filter(Boolean));
        if (new Set(names).size !== names.length) problems.push(`${id}: duplicate container port names`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('names where each bundled file came from', () => {
    const revue = yamlFiles(join(workloads, 'revue')).filter((f) => f !== 'revue/namespace.yaml' && !isDataFile(f));
    expect(revue.length).toBe(14);
    for (const f of revue) expect(readFileSync(join(workloads, f), 'utf8'), f).toMatch(/upstream revue-kubernetes .*\(MIT\)/);
    // A vendored file is named, with its source and checksum, in its folder's provenance.json (metallb.test.ts checks
    // the checksum), next to the project's licence.
    const vendored = yamlFiles(workloads).filter(isVendored);
    expect(vendored).toEqual(['metallb/upstream/metallb-native.yaml']);
    for (const f of vendored) {
      const provenance = JSON.parse(readFileSync(join(workloads, dirname(f), 'provenance.json'), 'utf8')) as {
        files: Record<string, { source: string; sha256: string }>;
      };
      expect(provenance.files[basename(f)], f).toEqual({
        source: expect.any(String),
        url: expect.stringMatching(/^https:\/\//),
        sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      });
      expect(provenance.files.LICENSE, f).toBeDefined();
    }
  });
});
