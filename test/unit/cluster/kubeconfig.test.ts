import { readFileSync } from 'node:fs';
import yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { mergeKubeconfig, resolveKubeconfigPath, rewriteKubeconfig } from '../../../cluster/kubeconfig.js';

/** /etc/rancher/k3s/k3s.yaml as K3s writes it (certificate data shortened). */
/** /etc/rancher/k3s/k3s.yaml as K3s writes it (dummy certificate data). */
const K3S_YAML = readFileSync(new URL('../../fixtures/k3s/k3s.yaml', import.meta.url), 'utf8');

const OTHER = `apiVersion: v1
kind: Config
clusters:
- name: work
  cluster:
    server: https://work.example:6443
contexts:
- name: work
  context:
    cluster: work
    user: work-admin
current-context: work
users:
- name: work-admin
  user:
    token: not-ours
`;

describe('rewriteKubeconfig', () => {
  it('renames cluster, user and context to the cluster name and points at the server', () => {
    expect(rewriteKubeconfig(K3S_YAML, { clusterName: 'lab', server: 'https://192.168.1.101:6443' })).toBe(`apiVersion: v1
kind: Config
clusters:
  - name: lab
    cluster:
      certificate-authority-data: LS0tQ0EtLS0=
      server: https://192.168.1.101:6443
users:
  - name: lab
    user:
      client-certificate-data: LS0tQ0VSVC0tLQ==
      client-key-data: LS0tS0VZLS0t
contexts:
  - name: lab
    context:
      cluster: lab
      user: lab
current-context: lab
preferences: {}
`);
  });
  it('refuses something that is not a K3s kubeconfig', () => {
    expect(() => rewriteKubeconfig('apiVersion: v1\nkind: Config\n', { clusterName: 'lab', server: 'https://x:6443' })).toThrow(
      /lacks a cluster, user or context/,
    );
  });
});

describe('mergeKubeconfig', () => {
  const ours = rewriteKubeconfig(K3S_YAML, { clusterName: 'lab', server: 'https://192.168.1.101:6443' });

  it('into no file: ours, current-context set', () => {
    const merged = yaml.load(mergeKubeconfig(undefined, ours, 'lab')) as Record<string, unknown>;
    expect(merged['current-context']).toBe('lab');
    expect((merged.contexts as { name: string }[]).map((c) => c.name)).toEqual(['lab']);
  });

  it('keeps every other entry and the current context', () => {
    const merged = yaml.load(mergeKubeconfig(OTHER, ours, 'lab')) as Record<string, { name: string }[] | string>;
    expect(merged['current-context']).toBe('work');
    expect((merged.clusters as { name: string }[]).map((c) => c.name)).toEqual(['work', 'lab']);
    expect((merged.users as { name: string }[]).map((c) => c.name)).toEqual(['work-admin', 'lab']);
    expect((merged.contexts as { name: string }[]).map((c) => c.name)).toEqual(['work', 'lab']);
    const other = yaml.load(OTHER) as Record<string, unknown>;
    expect((merged.users as unknown[])[0]).toEqual((other.users as unknown[])[0]);
  });

  it('replaces our entries in place, never duplicates, and is stable when run again', () => {
    const once = mergeKubeconfig(OTHER, ours, 'lab');
    expect(mergeKubeconfig(once, ours, 'lab')).toBe(once);
    const moved = rewriteKubeconfig(K3S_YAML, { clusterName: 'lab', server: 'https://k8s.lab.example:6443' });
    const again = yaml.load(mergeKubeconfig(once, moved, 'lab')) as { clusters: { name: string; cluster: { server: string } }[] };
    expect(again.clusters.map((c) => [c.name, c.cluster.server])).toEqual([
      ['work', 'https://work.example:6443'],
      ['lab', 'https://k8s.lab.example:6443'],
    ]);
  });

  it('collapses duplicates of our name left by other tools', () => {
    const dup = mergeKubeconfig(OTHER, ours, 'lab').replace('contexts:\n', 'contexts:\n  - name: lab\n    context: {cluster: old, user: old}\n');
    const merged = yaml.load(mergeKubeconfig(dup, ours, 'lab')) as { contexts: { name: string; context: { cluster: string } }[] };
    expect(merged.contexts.map((c) => `${c.name}:${c.context.cluster}`)).toEqual(['lab:lab', 'work:work']);
  });

  it('names the file when the existing kubeconfig is broken', () => {
    expect(() => mergeKubeconfig('clusters: [', ours, 'lab', '/home/me/.kube/config')).toThrow(/^\/home\/me\/\.kube\/config is not valid YAML/);
    expect(() => mergeKubeconfig('clusters: 3\n', ours, 'lab', '/home/me/.kube/config')).toThrow(/malformed "clusters" list/);
  });
});

describe('resolveKubeconfigPath', () => {
  it.each([
    ['the flag wins', '/tmp/k.yaml', { KUBECONFIG: '/a:/b', HOME: '/home/me' }, '/tmp/k.yaml'],
    ['~ in the flag', '~/k.yaml', { HOME: '/home/me' }, '/home/me/k.yaml'],
    ['first path of KUBECONFIG', undefined, { KUBECONFIG: ':/a/config:/b/config', HOME: '/home/me' }, '/a/config'],
    ['default ~/.kube/config', undefined, { HOME: '/home/me' }, '/home/me/.kube/config'],
    ['empty KUBECONFIG is ignored', undefined, { KUBECONFIG: '', HOME: '/home/me' }, '/home/me/.kube/config'],
  ])('%s', (_what, flag, env, expected) => {
    expect(resolveKubeconfigPath(flag, env)).toBe(expected);
  });
});
