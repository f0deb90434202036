import { describe, expect, it } from 'vitest';
import { mergeKubeconfig, mergedEntries, unmergeKubeconfig } from '../../../cluster/kubeconfig.js';

const ours = (name: string, server: string) =>
  `apiVersion: v1\nkind: Config\nclusters:\n- name: ${name}\n  cluster: {server: "${server}"}\nusers:\n- name: ${name}\n  user: {token: t}\ncontexts:\n- name: ${name}\n  context: {cluster: ${name}, user: ${name}}\ncurrent-context: ${name}\n`;

describe('unmergeKubeconfig (reset)', () => {
  it('takes out exactly what up merged: merge then unmerge gives the file back', () => {
    const before = mergeKubeconfig(undefined, ours('work', 'https://w:6443'), 'work');
    const merged = mergeKubeconfig(before, ours('home', 'https://10.0.0.1:6443'), 'home');
    expect(mergedEntries(merged, 'home')).toEqual(['context', 'cluster', 'user']);
    expect(unmergeKubeconfig(merged, 'home')).toBe(before);
    expect(mergedEntries(before, 'home')).toEqual([]);
  });

  it('a current-context naming the cluster is removed; other keys stay', () => {
    const only = mergeKubeconfig(undefined, ours('home', 'https://10.0.0.1:6443'), 'home');
    expect(unmergeKubeconfig(only, 'home')).toBe('apiVersion: v1\nkind: Config\nclusters: []\nusers: []\ncontexts: []\npreferences: {}\n');
    expect(mergedEntries(undefined, 'home')).toEqual([]);
    expect(() => mergedEntries('clusters: 3\n', 'home')).toThrow(/malformed "clusters" list/);
  });
});
