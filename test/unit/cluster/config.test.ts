import { describe, expect, it } from 'vitest';
import { apiEndpointHost, apiServerUrl, configDrift, renderK3sConfig } from '../../../cluster/config.js';
import { haInventory, inventory } from './helpers.js';

const HEADER = '# Written by revue-pi from the inventory; edits here are drift and the next `revue-pi up` undoes them.\n';

describe('renderK3sConfig', () => {
  const inv = inventory({ cluster: { name: 'lab', apiEndpoint: 'k8s.lab.example' } });
  const [first, labelled, plain] = inv.nodes as [(typeof inv.nodes)[0], (typeof inv.nodes)[0], (typeof inv.nodes)[0]];

  it('first server of a single-server cluster: cluster-init (embedded etcd), no server, servicelb disabled, tls-san with address, name and apiEndpoint', () => {
    expect(renderK3sConfig(inv, first, { firstServer: first, isFirstServer: true })).toBe(
      HEADER +
        [
          'cluster-init: true',
          'disable:',
          '  - servicelb',
          'node-name: pi-1',
          'tls-san:',
          '  - 192.168.1.101',
          '  - pi-1',
          '  - k8s.lab.example',
          'token-file: /etc/rancher/k3s/revue-pi-token',
          "write-kubeconfig-mode: '0600'",
          '',
        ].join('\n'),
    );
  });

  it('an existing SQLite single server keeps its config without cluster-init; a rebuilt first server joins a live one', () => {
    const sqlite = renderK3sConfig(inv, first, { firstServer: first, isFirstServer: true, firstServerStart: { kind: 'sqlite' } });
    expect(sqlite).toBe(renderK3sConfig(inv, first, { firstServer: first, isFirstServer: true }).replace('cluster-init: true\n', ''));
    const ha = haInventory();
    const s1 = ha.nodes[0]!;
    const rejoin = renderK3sConfig(ha, s1, { firstServer: s1, isFirstServer: true, firstServerStart: { kind: 'join', server: 'https://192.168.1.12:6443' } });
    expect(rejoin).toBe(
      HEADER +
        [
          'disable:',
          '  - servicelb',
          'node-name: s1',
          'server: https://192.168.1.12:6443',
          'tls-san:',
          '  - 192.168.1.11',
          '  - s1',
          'token-file: /etc/rancher/k3s/revue-pi-token',
          "write-kubeconfig-mode: '0600'",
          '',
        ].join('\n'),
    );
  });

  it('agent: labels sorted as k=v, taints, server URL of the first server, no server-only keys', () => {
    expect(renderK3sConfig(inv, labelled, { firstServer: first, isFirstServer: false })).toBe(
      HEADER +
        [
          'node-label:',
          '  - disk=ssd',
          '  - revue/zone=a',
          'node-name: pi-2',
          'node-taint:',
          '  - dedicated=db:NoSchedule',
          'server: https://192.168.1.101:6443',
          'token-file: /etc/rancher/k3s/revue-pi-token',
          '',
        ].join('\n'),
    );
    expect(renderK3sConfig(inv, plain, { firstServer: first, isFirstServer: false })).toBe(
      HEADER + ['node-name: pi-3', 'server: https://192.168.1.101:6443', 'token-file: /etc/rancher/k3s/revue-pi-token', ''].join('\n'),
    );
  });

  it('HA: cluster-init on the first of 3 servers only; joining servers get server:', () => {
    const ha = haInventory();
    const [s1, s2] = ha.nodes as [(typeof ha.nodes)[0], (typeof ha.nodes)[0]];
    const firstText = renderK3sConfig(ha, s1, { firstServer: s1, isFirstServer: true });
    expect(firstText).toContain('cluster-init: true\n');
    expect(firstText).not.toContain('server:');
    const joining = renderK3sConfig(ha, s2, { firstServer: s1, isFirstServer: false });
    expect(joining).toBe(
      HEADER +
        [
          'disable:',
          '  - servicelb',
          'node-name: s2',
          'server: https://192.168.1.11:6443',
          'tls-san:',
          '  - 192.168.1.12',
          '  - s2',
          'token-file: /etc/rancher/k3s/revue-pi-token',
          "write-kubeconfig-mode: '0600'",
          '',
        ].join('\n'),
    );
  });

  it('is deterministic: label insertion order does not change the bytes', () => {
    const a = inventory({}, [{ name: 'n', host: '10.0.0.1', role: 'server', labels: { b: '2', a: '1' } }]);
    const b = inventory({}, [{ name: 'n', host: '10.0.0.1', role: 'server', labels: { a: '1', b: '2' } }]);
    const ctx = (i: typeof a) => ({ firstServer: i.nodes[0]!, isFirstServer: true });
    expect(renderK3sConfig(a, a.nodes[0]!, ctx(a))).toBe(renderK3sConfig(b, b.nodes[0]!, ctx(b)));
  });
});

describe('configDrift', () => {
  it('names the keys that differ, including added and removed ones', () => {
    expect(configDrift('node-name: a\nnode-label: [x=1]\nextra: 1\n', 'node-name: a\nnode-label: [x=2]\ntls-san: [a]\n')).toEqual([
      'extra',
      'node-label',
      'tls-san',
    ]);
  });
  it('treats an unparsable file as every wanted key differing', () => {
    expect(configDrift('node-name: [', 'b: 1\na: 2\n')).toEqual(['a', 'b']);
  });
  it('finds nothing when only comments differ', () => {
    expect(configDrift('# hand note\nnode-name: a\n', 'node-name: a\n')).toEqual([]);
  });
});

describe('cluster.apiEndpoint forms', () => {
  it.each([
    ['k8s.lab.example', 'k8s.lab.example', 'https://k8s.lab.example:6443'],
    ['192.168.1.50', '192.168.1.50', 'https://192.168.1.50:6443'],
    ['k8s.lab.example:7443', 'k8s.lab.example', 'https://k8s.lab.example:7443'],
    ['https://k8s.lab.example:7443/', 'k8s.lab.example', 'https://k8s.lab.example:7443'],
    ['https://k8s.lab.example', 'k8s.lab.example', 'https://k8s.lab.example'],
    ['fd00::50', 'fd00::50', 'https://[fd00::50]:6443'],
    ['[fd00::50]:7443', 'fd00::50', 'https://[fd00::50]:7443'],
    ['https://[fd00::50]:7443', 'fd00::50', 'https://[fd00::50]:7443'],
  ])('%s → tls-san %s, kubeconfig %s', (endpoint, host, url) => {
    expect(apiEndpointHost(endpoint)).toBe(host);
    const inv = inventory({ cluster: { name: 'lab', apiEndpoint: endpoint } });
    expect(apiServerUrl(inv, inv.nodes[0]!)).toBe(url);
    expect(renderK3sConfig(inv, inv.nodes[0]!, { firstServer: inv.nodes[0]!, isFirstServer: true })).toContain(
      `tls-san:\n  - 192.168.1.101\n  - pi-1\n  - ${host}\n`,
    );
  });
  it("without one the first server's address", () => {
    const inv = inventory();
    expect(apiServerUrl(inv, inv.nodes[0]!)).toBe('https://192.168.1.101:6443');
  });
  it("an IPv6 first server is bracketed in the URLs (the kubeconfig, the agents' server:)", () => {
    const inv = inventory({
      nodes: [
        { name: 'pi-1', host: 'fd00::11', role: 'server' },
        { name: 'pi-2', host: 'fd00::12', role: 'agent' },
      ],
    });
    expect(apiServerUrl(inv, inv.nodes[0]!)).toBe('https://[fd00::11]:6443');
    expect(renderK3sConfig(inv, inv.nodes[1]!, { firstServer: inv.nodes[0]!, isFirstServer: false })).toContain('server: https://[fd00::11]:6443\n');
  });
});
