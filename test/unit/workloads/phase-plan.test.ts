import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Inventory } from '../../../core/inventory/schema.js';
import { runWorkloadsPhase } from '../../../workloads/phase.js';
import { WORKLOAD_SECRETS_FILE } from '../../../workloads/secrets-file.js';
import { PHASES } from '../../../workloads/render.js';
import { deterministicRandom } from '../../fakes/deterministic-random.js';
import { facts, labInventory, options, storedSecrets, world, type World } from './helpers.js';
import { tempDir } from '../../fakes/temp-dir.js';

/** runWorkloadsPhase on FakeKube (a TEST DOUBLE): the capacity check, `plan`, and the state file of the workload secrets. */
let dir: string;
beforeEach(() => {
  dir = tempDir('workloads');
});

describe('capacity', () => {
  const small = (w: World, inventory: Inventory) => options(w, inventory, { nodes: inventory.nodes.map((node) => ({ node, facts: facts(undefined, 1, 2) })) });

  it('refuses when the minimum does not fit, before changing anything', async () => {
    const w = world(dir);
    const result = await runWorkloadsPhase(small(w, labInventory()));
    expect(result.ok).toBe(false);
    expect(result.capacity?.verdict).toBe('refuse');
    expect(result.error).toMatch(
      /^the workloads do not fit on the nodes, so nothing was applied: The minimum \([\d.]+ CPU \/ [\d.]+ GiB\) does not fit in [\d.]+ CPU \/ [\d.]+ GiB: .*--force/,
    );
    expect(w.transport.writes).toEqual([]);
    expect(w.kube.labelCommands).toEqual([]);
  });

  it('--force applies anyway and says so', async () => {
    const w = world(dir);
    const result = await runWorkloadsPhase({ ...small(w, labInventory()), force: true });
    expect(result.ok).toBe(true);
    expect(result.capacity).toMatchObject({ verdict: 'refuse', forced: true });
    expect(w.events).toContainEqual({ type: 'warning', message: 'Applying anyway (--force): pods that do not fit stay Pending.' });
    expect(w.kube.applies.map((a) => a.path.replace(/^.*apply-|\.yaml$/g, ''))).toEqual([...PHASES, 'record']);
  });
});

describe('plan', () => {
  it('changes nothing: no upload, no label, no secrets file; says what it would apply', async () => {
    const w = world(dir);
    const result = await runWorkloadsPhase(options(w, labInventory(), { command: 'plan' }));
    expect(result.ok).toBe(true);
    expect(w.transport.writes).toEqual([]);
    expect(w.kube.labelCommands).toEqual([]);
    expect(() => statSync(join(dir, 'state', WORKLOAD_SECRETS_FILE))).toThrow();
    expect(result.phases.every((p) => p.status === 'planned')).toBe(true);
    expect(result.phases[0]!.plan).toMatch(/^would apply \d+ objects \(metallb\): \d+ new, 0 already there \(updated only where they differ\)$/);
    expect(result.nodeLabels).toHaveLength(3);
    expect(result.changed).toBe(true);
    expect(result.summary).toMatch(
      /^would apply \d+ objects in 5 phases \(metallb → metallb-config → traefik → monitoring → revue\); 3 node labels to set; 0 objects to remove$/,
    );
  });

  it('after an up with monitoring, a plan without it lists what would be removed', async () => {
    const w = world(dir);
    await runWorkloadsPhase(options(w, labInventory()));
    const count = w.kube.objects.size;
    const result = await runWorkloadsPhase(options(w, labInventory({ workloads: { monitoring: false } }), { command: 'plan' }));
    expect(result.pruned).toEqual(['IngressRoute monitoring/monitoring']);
    // What holds data is listed on its own: up asks for it separately.
    expect(result.keptData).toEqual([
      'HelmChart kube-system/prometheus',
      'HelmChart kube-system/grafana',
      'Secret monitoring/grafana-admin',
      'Namespace monitoring',
    ]);
    expect(result.summary).toMatch(
      /; 1 object to remove; 4 holding data, removed only if you consent when up asks \(or with --prune-data\): HelmChart kube-system\/prometheus, /,
    );
    expect(w.events).toContainEqual(expect.objectContaining({ type: 'node-step', step: 'prune-data', status: 'planned' }));
    expect(result.phases.every((p) => /: 0 new, \d+ already there/.test(p.plan!))).toBe(true);
    expect(w.kube.objects.size).toBe(count);
  });
});

describe('state', () => {
  it('a malformed secrets file is an error naming it; nothing is applied', async () => {
    const w = world(dir);
    const { mkdirSync, writeFileSync } = await import('node:fs');
    mkdirSync(join(dir, 'state'), { recursive: true });
    writeFileSync(join(dir, 'state', WORKLOAD_SECRETS_FILE), '{"jwtSecret": "short"}');
    const result = await runWorkloadsPhase(options(w, labInventory()));
    expect(result.ok).toBe(false);
    expect(result.error).toContain(`The workload secret jwtSecret in ${join(dir, 'state', WORKLOAD_SECRETS_FILE)} is malformed`);
    expect(w.transport.runs).toEqual([]);
    expect(w.kube.kubectl.queries).toEqual([]);
  });

  it('a lost secrets file is rebuilt from the Secrets in the cluster, not regenerated (MongoDB keeps its first password)', async () => {
    const w = world(dir);
    await runWorkloadsPhase(options(w, labInventory()));
    const first = storedSecrets(dir);
    rmSync(join(dir, 'state', WORKLOAD_SECRETS_FILE));
    const again = await runWorkloadsPhase(options(w, labInventory(), { random: deterministicRandom('another-seed') }));
    expect(again.error).toBeUndefined();
    expect(again.changed).toBe(false);
    expect(storedSecrets(dir)).toEqual(first);
    expect(statSync(join(dir, 'state', WORKLOAD_SECRETS_FILE)).mode & 0o777).toBe(0o600);
    expect(w.events).toContainEqual({
      type: 'info',
      message: `The workload secrets were missing from ${join(dir, 'state', WORKLOAD_SECRETS_FILE)}; took the ones the cluster's Secrets hold and saved them there (mode 0600).`,
    });
  });

  it("with monitoring off and the file lost, only Grafana's password is new", async () => {
    const w = world(dir);
    await runWorkloadsPhase(options(w, labInventory({ workloads: { monitoring: false } })));
    const first = storedSecrets(dir);
    rmSync(join(dir, 'state', WORKLOAD_SECRETS_FILE));
    await runWorkloadsPhase(options(w, labInventory({ workloads: { monitoring: false } }), { random: deterministicRandom('another-seed') }));
    const again = storedSecrets(dir);
    expect({ ...again, grafanaAdminPassword: '' }).toEqual({ ...first, grafanaAdminPassword: '' });
    expect(again.grafanaAdminPassword).not.toBe(first.grafanaAdminPassword);
  });

  it('the uploaded YAML holds the stored secrets, base64 as Kubernetes wants', async () => {
    const w = world(dir);
    await runWorkloadsPhase(options(w, labInventory()));
    const secrets = storedSecrets(dir);
    const revueYaml = w.transport.writes.find((x) => x.path.endsWith('apply-revue.yaml'))!.content.toString();
    const docs = yaml.loadAll(revueYaml) as { kind: string; metadata: { name: string }; data?: Record<string, string> }[];
    const tokens = docs.find((d) => d.kind === 'Secret' && d.metadata.name === 'revue-tokens')!;
    expect(Buffer.from(tokens.data!.JWT_SECRET!, 'base64').toString()).toBe(secrets.jwtSecret);
    expect(revueYaml).not.toContain(secrets.jwtSecret);
  });
});
