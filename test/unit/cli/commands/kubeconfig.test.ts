import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { beforeEach, describe, expect, it } from 'vitest';
import { runKubeconfigCommand, type KubeconfigCommandOptions } from '../../../../cli/commands/kubeconfig.js';
import { K3S_KUBECONFIG_PATH } from '../../../../core/k3s-paths.js';
import { FakeTransport } from '../../../fakes/fake-transport.js';
import { tempDir } from '../../../fakes/temp-dir.js';

const K3S_YAML = `apiVersion: v1
clusters:
- cluster: {certificate-authority-data: Q0E=, server: "https://127.0.0.1:6443"}
  name: default
contexts:
- context: {cluster: default, user: default}
  name: default
current-context: default
kind: Config
preferences: {}
users:
- name: default
  user: {client-certificate-data: Q0VSVA==, client-key-data: S0VZ}
`;

let dir: string;
let out: string;
let err: string;
let opened: string[];
beforeEach(() => {
  dir = tempDir('kubeconfig-cmd');
  out = '';
  err = '';
  opened = [];
  writeFileSync(
    join(dir, 'inventory.yaml'),
    'cluster:\n  name: lab\nnodes:\n  - {name: pi-1, host: 192.168.1.101, role: agent}\n  - {name: pi-2, host: 192.168.1.102, role: server}\n' +
      'network:\n  metallb:\n    pools: [{name: lan, addresses: [192.168.1.200-192.168.1.220]}]\n',
  );
});

function run(over: Partial<KubeconfigCommandOptions>, files: Record<string, string> = { [K3S_KUBECONFIG_PATH]: K3S_YAML }) {
  return runKubeconfigCommand({
    inventory: join(dir, 'inventory.yaml'),
    stateDir: join(dir, 'state'),
    openTransport: async (node) => {
      opened.push(node.name);
      return new FakeTransport(node.name, files);
    },
    stdout: (t) => (out += t),
    stderr: (t) => (err += t),
    env: { HOME: dir },
    ...over,
  });
}

describe('revue-pi kubeconfig', () => {
  it('prints the kubeconfig of the first server, renamed and pointed at it', async () => {
    expect(await run({})).toBe(0);
    expect(opened).toEqual(['pi-2']);
    const doc = yaml.load(out) as { clusters: { name: string; cluster: { server: string } }[]; 'current-context': string };
    expect(doc.clusters).toEqual([{ name: 'lab', cluster: { 'certificate-authority-data': 'Q0E=', server: 'https://192.168.1.102:6443' } }]);
    expect(doc['current-context']).toBe('lab');
    expect(err).toBe('');
  });

  it('--write merges into ~/.kube/config (0600), and says when there is nothing to change', async () => {
    expect(await run({ write: true })).toBe(0);
    const path = join(dir, '.kube', 'config');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(err).toBe(`Merged context lab into ${path} (mode 0600). Use it with: kubectl --context lab get nodes\n`);
    expect(out).toBe('');
    err = '';
    const before = readFileSync(path, 'utf8');
    expect(await run({ write: true })).toBe(0);
    expect(readFileSync(path, 'utf8')).toBe(before);
    expect(err).toBe(`${path} already holds the current kubeconfig of lab; nothing to change.\n`);
  });

  it("--write is refused while another run holds the cluster's lock, naming it; the file is left alone; printing needs no lock", async () => {
    const { acquireStateLock } = await import('../../../../core/lock.js');
    const { mkdirSync, existsSync } = await import('node:fs');
    mkdirSync(join(dir, 'state'), { recursive: true });
    const held = await acquireStateLock(join(dir, 'state'), 'lab', 'up', { signals: false });
    try {
      expect(await run({ write: true })).toBe(1);
      expect(err).toMatch(
        new RegExp(
          `^Another revue-pi run is working on cluster lab: \`up\`, pid ${process.pid} on host \\S+, started \\S+ \\(\\d+ s ago\\)\\. It holds ${join(dir, 'state', 'lock')}`,
        ),
      );
      expect(existsSync(join(dir, '.kube', 'config'))).toBe(false);
      expect(await run({})).toBe(0);
    } finally {
      held.release();
    }
    expect(await run({ write: true })).toBe(0);
  });

  it('--kubeconfig PATH writes there, keeping other contexts', async () => {
    const path = join(dir, 'other.yaml');
    writeFileSync(
      path,
      'apiVersion: v1\nkind: Config\nclusters: [{name: x, cluster: {server: "https://x:6443"}}]\nusers: [{name: x, user: {}}]\ncontexts: [{name: x, context: {cluster: x, user: x}}]\ncurrent-context: x\n',
    );
    expect(await run({ kubeconfig: path })).toBe(0);
    const doc = yaml.load(readFileSync(path, 'utf8')) as { contexts: { name: string }[]; 'current-context': string };
    expect(doc.contexts.map((c) => c.name)).toEqual(['x', 'lab']);
    expect(doc['current-context']).toBe('x');
  });

  it('K3s not installed on the first server: exit 1 naming the node and what to do', async () => {
    expect(await run({}, {})).toBe(1);
    expect(err).toBe('first server pi-2 has no /etc/rancher/k3s/k3s.yaml: K3s is not installed or has not started there. Run `revue-pi up` first.\n');
  });

  it('a broken kubeconfig file: exit 1 naming the file, file left as it was', async () => {
    const path = join(dir, 'broken.yaml');
    writeFileSync(path, 'clusters: [\n');
    expect(await run({ kubeconfig: path })).toBe(1);
    expect(err).toMatch(new RegExp(`^${path} is not valid YAML: .* Fix or move ${path}, or pass --kubeconfig PATH.\\n$`));
    expect(readFileSync(path, 'utf8')).toBe('clusters: [\n');
  });

  it('a bad inventory: exit 2, nothing contacted', async () => {
    writeFileSync(join(dir, 'inventory.yaml'), 'cluster: {name: lab}\nnodes: []\n');
    expect(await run({})).toBe(2);
    expect(opened).toEqual([]);
    expect(err).toContain('is not valid');
  });
});
