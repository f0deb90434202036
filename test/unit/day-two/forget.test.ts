import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { forgetNodeInState, kubeconfigServer, nodeStateFiles, repointKubeconfig, withoutKey } from '../../../cluster/day-two/forget.js';
import { tempDir } from '../../fakes/temp-dir.js';

const KUBECONFIG = `apiVersion: v1
kind: Config
clusters:
- name: work
  cluster: {server: "https://work.example:6443"}
- name: lab
  cluster: {certificate-authority-data: Q0E=, server: "https://192.168.1.11:6443"}
users:
- name: lab
  user: {client-key-data: S0VZ}
contexts:
- name: lab
  context: {cluster: lab, user: lab}
current-context: work
`;

describe('forgetting a removed node', () => {
  it('withoutKey drops one node from a node-keyed JSON file, and says undefined when there is nothing to drop', () => {
    expect(withoutKey('{"pi-1":{"a":1},"pi-2":{"b":2}}', 'pi-2')).toBe('{\n  "pi-1": {\n    "a": 1\n  }\n}\n');
    expect(withoutKey('{"pi-1":{}}', 'pi-2')).toBeUndefined();
    expect(withoutKey('not json', 'pi-2')).toBeUndefined();
    expect(withoutKey('["pi-2"]', 'pi-2')).toBeUndefined();
    expect(withoutKey(undefined, 'pi-2')).toBeUndefined();
  });

  it('lists and rewrites the state files that hold the node (0600), leaving the others as they were', () => {
    const dir = tempDir('forget');
    writeFileSync(join(dir, 'k3s-versions.json'), '{"pi-1":{"version":"v1"},"pi-2":{"version":"v1"}}', { mode: 0o600 });
    writeFileSync(join(dir, 'page-sizes.json'), '{"pi-1":{"pageSize":4096}}', { mode: 0o600 });
    expect(nodeStateFiles(dir, 'pi-2')).toEqual(['k3s-versions.json']);
    expect(forgetNodeInState(dir, 'pi-2')).toEqual(['k3s-versions.json']);
    expect(JSON.parse(readFileSync(join(dir, 'k3s-versions.json'), 'utf8'))).toEqual({ 'pi-1': { version: 'v1' } });
    expect(statSync(join(dir, 'k3s-versions.json')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, 'page-sizes.json'), 'utf8')).toBe('{"pi-1":{"pageSize":4096}}');
    expect(nodeStateFiles(dir, 'pi-2')).toEqual([]);
  });

  it('reads the server of the cluster entry up merged, and re-points only that entry', () => {
    expect(kubeconfigServer(KUBECONFIG, 'lab')).toBe('https://192.168.1.11:6443');
    expect(kubeconfigServer(KUBECONFIG, 'other')).toBeUndefined();
    expect(kubeconfigServer(undefined, 'lab')).toBeUndefined();
    const next = yaml.load(repointKubeconfig(KUBECONFIG, 'lab', 'https://192.168.1.12:6443')) as Record<string, unknown>;
    const before = yaml.load(KUBECONFIG) as Record<string, unknown>;
    expect(next).toEqual({
      ...before,
      clusters: [
        { name: 'work', cluster: { server: 'https://work.example:6443' } },
        { name: 'lab', cluster: { 'certificate-authority-data': 'Q0E=', server: 'https://192.168.1.12:6443' } },
      ],
    });
    expect(() => repointKubeconfig(KUBECONFIG, 'other', 'https://x:6443')).toThrow(/no cluster named other/);
  });
});
