import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { beforeEach, describe, expect, it } from 'vitest';
import { runRenderCommand } from '../../../../cli/commands/render.js';
import { WORKLOAD_SECRETS_FILE } from '../../../../workloads/secrets-file.js';
import { allSecretValues, type WorkloadSecrets } from '../../../../workloads/secrets.js';
import { deterministicRandom } from '../../../fakes/deterministic-random.js';
import { tempDir } from '../../../fakes/temp-dir.js';

/** `revue-pi render`: files, determinism, secrets only on request, exit codes. Touches only a temp folder. */
let dir: string;
beforeEach(() => {
  dir = tempDir('render');
});

const INVENTORY = `cluster: {name: lab, domain: revue.lan}
nodes:
  - {name: pi-1, host: 127.0.0.11, role: server}
  - {name: pi-2, host: 127.0.0.12, role: agent}
network:
  metallb:
    pools: [{name: lan, addresses: [192.168.50.240/28]}]
  addresses: {ingress: 192.168.50.240}
`;

function write(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

async function render(opts: { inventory: string; output: string; includeSecrets?: boolean }) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runRenderCommand({
    ...opts,
    stateDir: join(dir, 'state'),
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    random: deterministicRandom('render'),
  });
  return { code, out: out.join(''), err: err.join('') };
}

const tree = (d: string) =>
  Object.fromEntries(
    readdirSync(d)
      .sort()
      .map((f) => [f, readFileSync(join(d, f), 'utf8')]),
  );

describe('revue-pi render', () => {
  it('writes one file per phase, no Secrets, the same bytes every time', async () => {
    const inv = write('inventory.yaml', INVENTORY);
    const first = await render({ inventory: inv, output: join(dir, 'out') });
    expect(first.err).toBe('');
    expect(first.code).toBe(0);
    const files = tree(join(dir, 'out'));
    expect(Object.keys(files)).toEqual(['00-metallb.yaml', '10-metallb-config.yaml', '20-traefik.yaml', '30-monitoring.yaml', '40-revue.yaml']);
    const kinds = Object.values(files).flatMap((t) =>
      (yaml.loadAll(t) as { kind: string; data?: unknown }[]).filter((d) => d.kind === 'Secret' && d.data !== undefined),
    );
    expect(kinds).toEqual([]);
    expect(first.out).toContain('Secrets are left out');
    // The state dir is not needed and not created without --include-secrets.
    expect(() => statSync(join(dir, 'state'))).toThrow();

    const again = await render({ inventory: inv, output: join(dir, 'out') });
    expect(again.code).toBe(0);
    expect(tree(join(dir, 'out'))).toEqual(files);
  });

  it('--include-secrets writes secrets.yaml (0600) from the state file, generating and keeping them', async () => {
    const inv = write('inventory.yaml', INVENTORY);
    const r = await render({ inventory: inv, output: join(dir, 'out'), includeSecrets: true });
    expect(r.code).toBe(0);
    const stateFile = join(dir, 'state', WORKLOAD_SECRETS_FILE);
    expect(statSync(stateFile).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'out', 'secrets.yaml')).mode & 0o777).toBe(0o600);
    const secrets = JSON.parse(readFileSync(stateFile, 'utf8')) as WorkloadSecrets;
    const docs = yaml.loadAll(readFileSync(join(dir, 'out', 'secrets.yaml'), 'utf8')) as {
      metadata: { name: string; namespace: string };
      data: Record<string, string>;
    }[];
    const grafana = docs.find((d) => d.metadata.name === 'grafana-admin')!;
    expect(Buffer.from(grafana.data['admin-password']!, 'base64').toString()).toBe(secrets.grafanaAdminPassword);
    // Never printed.
    for (const v of allSecretValues(secrets)) expect(r.out + r.err).not.toContain(v);

    const before = tree(join(dir, 'out'));
    const again = await render({ inventory: inv, output: join(dir, 'out'), includeSecrets: true });
    expect(again.code).toBe(0);
    expect(tree(join(dir, 'out'))).toEqual(before);

    // Back to no secrets: the earlier secrets.yaml is removed, not left behind.
    await render({ inventory: inv, output: join(dir, 'out') });
    expect(readdirSync(join(dir, 'out'))).not.toContain('secrets.yaml');
  });

  it("--include-secrets is refused while another run holds the cluster's lock (it may write the secrets file); without it, no lock is needed", async () => {
    const inv = write('inventory.yaml', INVENTORY);
    const { acquireStateLock } = await import('../../../../core/lock.js');
    const { mkdirSync, existsSync } = await import('node:fs');
    mkdirSync(join(dir, 'state'), { recursive: true });
    const held = await acquireStateLock(join(dir, 'state'), 'lab', 'up', { signals: false });
    try {
      const r = await render({ inventory: inv, output: join(dir, 'out'), includeSecrets: true });
      expect(r.code).toBe(1);
      expect(r.err).toContain(`Another revue-pi run is working on cluster lab: \`up\`, pid ${process.pid}`);
      expect(existsSync(join(dir, 'state', WORKLOAD_SECRETS_FILE))).toBe(false);
      expect((await render({ inventory: inv, output: join(dir, 'out') })).code).toBe(0);
    } finally {
      held.release();
    }
  });

  it('a switched-off workload disappears from the output folder', async () => {
    const inv = write('inventory.yaml', INVENTORY);
    await render({ inventory: inv, output: join(dir, 'out') });
    const off = write('off.yaml', `${INVENTORY}workloads: {monitoring: false}\n`);
    expect((await render({ inventory: off, output: join(dir, 'out') })).code).toBe(0);
    expect(readdirSync(join(dir, 'out'))).not.toContain('30-monitoring.yaml');
  });

  it('exit 2 on a bad inventory, naming the file and field; nothing written', async () => {
    const inv = write('bad.yaml', INVENTORY.replace('role: agent', 'role: worker'));
    const r = await render({ inventory: inv, output: join(dir, 'out') });
    expect(r.code).toBe(2);
    expect(r.err).toContain(`The inventory ${inv} is not valid`);
    expect(r.err).toContain('nodes[1].role');
    expect(() => statSync(join(dir, 'out'))).toThrow();
  });

  it('exit 2 for a reserved namespace, refused with the inventory line', async () => {
    const inv = write('ns.yaml', `${INVENTORY}workloads: {namespace: kube-system}\n`);
    const r = await render({ inventory: inv, output: join(dir, 'out') });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/ns\.yaml:\d+:\d+ workloads\.namespace: namespace "kube-system" is reserved/);
  });

  it('exit 2 for a missing inventory file', async () => {
    const r = await render({ inventory: join(dir, 'nope.yaml'), output: join(dir, 'out') });
    expect(r.code).toBe(2);
    expect(r.err).toContain(join(dir, 'nope.yaml'));
  });
});
