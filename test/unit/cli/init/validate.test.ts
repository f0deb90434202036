import { describe, expect, it } from 'vitest';
import {
  clusterNameProblem,
  domainProblem,
  envNameProblem,
  fixedAddressCount,
  fixedAddresses,
  formatNodeAddress,
  hostProblem,
  splitNodeAddress,
  k3sVersionProblem,
  nodeNameProblem,
  poolProblem,
  suggestPool,
  userProblem,
} from '../../../../cli/init/validate.js';

const ALL = { revue: true, monitoring: true, kafkaUi: true };
const MONITORING_ONLY = { revue: false, monitoring: true, kafkaUi: false };
const NONE = { revue: false, monitoring: false, kafkaUi: false };

describe('clusterNameProblem / nodeNameProblem', () => {
  it.each(['revue', 'lab', 'home-lab-2', 'a'])('accepts %j', (name) => {
    expect(clusterNameProblem(name)).toBeUndefined();
    expect(nodeNameProblem(name, [])).toBeUndefined();
  });

  it.each(['', 'Revue', 'pi_1', '-pi', 'pi-', 'pi 1', 'pi.1', 'x'.repeat(64)])('refuses %j', (name) => {
    expect(clusterNameProblem(name)).toMatch(/name|lowercase/);
    expect(nodeNameProblem(name, [])).toMatch(/name|lowercase/);
  });

  it('refuses a node name already taken, naming it', () => {
    expect(nodeNameProblem('pi-2', ['pi-1', 'pi-2'])).toBe('pi-2 is already the name of another node — give every node its own name');
    expect(nodeNameProblem('pi-3', ['pi-1', 'pi-2'])).toBeUndefined();
  });
});

describe('hostProblem', () => {
  const others = [
    { name: 'pi-1', host: '192.168.1.101' },
    { name: 'pi-2', host: 'pi-2.local' },
  ];

  it.each(['192.168.1.102', 'pi-3.local', 'pi-3', 'PI-4.lan', '192.168.1.102:2222', 'pi-3.local:22', 'pi-3:65535'])('accepts %j', (host) => {
    expect(hostProblem(host, others)).toBeUndefined();
  });

  it.each([
    ['', 'give the address the Pi answers SSH on, e.g. 192.168.1.101 or pi-1.local (add :port when it is not 22)'],
    ['pi-3:0', '0 is not an SSH port — give a number from 1 to 65535 after the ":", e.g. pi-1.local:2222'],
    ['pi-3:70000', '70000 is not an SSH port — give a number from 1 to 65535 after the ":", e.g. pi-1.local:2222'],
    ['pi-3:ssh', '"pi-3:ssh" is neither an IPv4 address (192.168.1.101) nor a host name (pi-1.local)'],
    ['fe80::1', '"fe80::1" is neither an IPv4 address (192.168.1.101) nor a host name (pi-1.local)'],
    ['192.168.1.101:2222', '192.168.1.101 is already the address of node pi-1 — each node needs its own address'],
    ['192.168.1.300', '"192.168.1.300" is neither an IPv4 address (192.168.1.101) nor a host name (pi-1.local)'],
    ['192.168.1', '"192.168.1" is neither an IPv4 address (192.168.1.101) nor a host name (pi-1.local)'],
    ['pi 3', '"pi 3" is neither an IPv4 address (192.168.1.101) nor a host name (pi-1.local)'],
    ['pi_3.local', '"pi_3.local" is neither an IPv4 address (192.168.1.101) nor a host name (pi-1.local)'],
    ['192.168.1.101', '192.168.1.101 is already the address of node pi-1 — each node needs its own address'],
    ['PI-2.local', 'PI-2.local is already the address of node pi-2 — each node needs its own address'],
  ])('refuses %j', (host, message) => {
    expect(hostProblem(host, others)).toBe(message);
  });
});

describe('splitNodeAddress / formatNodeAddress', () => {
  it.each([
    ['pi-1.local', { host: 'pi-1.local' }],
    ['pi-1.local:2222', { host: 'pi-1.local', port: 2222 }],
    ['192.168.1.101:22', { host: '192.168.1.101' }],
  ])('%j → %j and back', (typed, node) => {
    expect(splitNodeAddress(typed)).toEqual(node);
    expect(formatNodeAddress(node)).toBe(typed.replace(/:22$/, ''));
  });
});

describe('userProblem / domainProblem / envNameProblem / k3sVersionProblem', () => {
  it.each(['pi', 'admin', 'ubuntu', 'first.last', 'svc-1'])('user %j is fine', (u) => expect(userProblem(u)).toBeUndefined());
  it.each(['', 'pi user', '1pi', 'pi;rm', 'pi$'])('user %j is refused', (u) => expect(userProblem(u)).toBeDefined());

  it.each(['revue.local', 'lab', 'home.example.com'])('domain %j is fine', (d) => expect(domainProblem(d)).toBeUndefined());
  it.each(['', 'revue..local', '-x.local', 'revue local', 'revue.local.', 'Revue.Local'])('domain %j is refused', (d) =>
    expect(domainProblem(d)).toBeDefined(),
  );

  it.each(['PI_KEY_PASSPHRASE', '_X', 'A1'])('env name %j is fine', (n) => expect(envNameProblem(n)).toBeUndefined());
  it.each(['pi_key', 'hunter2', '1ABC', 'A-B', ''])('env name %j is refused', (n) => expect(envNameProblem(n)).toMatch(/NAME of an environment variable/));

  it('k3s versions: the release name form only, with a suggestion when close', () => {
    expect(k3sVersionProblem('v1.33.5+k3s1')).toBeUndefined();
    expect(k3sVersionProblem('v1.34.1+k3s2')).toBeUndefined();
    expect(k3sVersionProblem('1.33.5')).toBe('write it as vX.Y.Z+k3sN — did you mean v1.33.5+k3s1?');
    expect(k3sVersionProblem('v1.33.5')).toBe('write it as vX.Y.Z+k3sN — did you mean v1.33.5+k3s1?');
    expect(k3sVersionProblem('1.33.5+k3s3')).toBe('write it as vX.Y.Z+k3sN — did you mean v1.33.5+k3s3?');
    expect(k3sVersionProblem('latest')).toBe('write a release name from https://github.com/k3s-io/k3s/releases, e.g. v1.33.5+k3s1');
  });
});

describe('suggestPool', () => {
  it.each<[string, string[], string | undefined]>([
    [".200-.220 in the first node's /24", ['192.168.1.101', '192.168.1.102'], '192.168.1.200-192.168.1.220'],
    ['moves up past a node inside .200-.220', ['192.168.1.101', '192.168.1.210'], '192.168.1.211-192.168.1.231'],
    ['nodes only on other /24s do not matter', ['10.0.5.7', '10.0.6.205'], '10.0.5.200-10.0.5.220'],
    ['names are skipped, the first IPv4 node decides', ['pi-1.local', '127.0.60.2'], '127.0.60.200-127.0.60.220'],
    ['goes below .200 when the top is crowded', ['192.168.1.205', '192.168.1.225', '192.168.1.245'], '192.168.1.184-192.168.1.204'],
    ['no IPv4 node: no suggestion', ['pi-1.local', 'pi-2.local'], undefined],
    ['no node: no suggestion', [], undefined],
  ])('%s', (_what, hosts, expected) => {
    expect(suggestPool(hosts)).toBe(expected);
  });

  it('a suggestion always passes poolProblem for the same nodes', () => {
    const nodes = ['192.168.1.101', '192.168.1.210', '192.168.1.30'].map((host, i) => ({ name: `pi-${i + 1}`, host }));
    const pool = suggestPool(nodes.map((n) => n.host));
    expect(pool).toBeDefined();
    expect(poolProblem(pool!, nodes, ALL)).toBeUndefined();
  });

  it('gives up when every window of 21 holds a node', () => {
    const hosts = Array.from({ length: 13 }, (_, i) => `192.168.1.${10 + i * 20}`);
    expect(suggestPool(hosts)).toBeUndefined();
  });
});

describe('poolProblem', () => {
  const nodes = [
    { name: 'pi-1', host: '192.168.1.101' },
    { name: 'pi-2', host: '192.168.1.102' },
    { name: 'pi-3', host: 'pi-3.local' },
  ];

  it.each(['192.168.1.200-192.168.1.220', '192.168.1.240/28', ' 192.168.1.200-192.168.1.203 '])('accepts %j', (pool) => {
    expect(poolProblem(pool, nodes, ALL)).toBeUndefined();
  });

  it.each([
    ['', ALL, 'give a range of free LAN addresses, e.g. 192.168.1.200-192.168.1.220'],
    ['192.168.1.200', ALL, '"192.168.1.200" is a single address; MetalLB takes CIDRs or ranges — write 192.168.1.200/32'],
    ['192.168.1.220-192.168.1.200', ALL, '"192.168.1.220-192.168.1.200" starts after it ends — write the lower address first: 192.168.1.200-192.168.1.220'],
    ['192.168.1.241/28', ALL, '"192.168.1.241/28" has host bits set — did you mean 192.168.1.240/28?'],
    ['lan', ALL, '"lan" is neither a CIDR (192.168.1.240/28) nor a range (192.168.1.200-192.168.1.220)'],
    [
      '192.168.1.100-192.168.1.120',
      ALL,
      '192.168.1.100-192.168.1.120 contains node addresses 192.168.1.101 (pi-1), 192.168.1.102 (pi-2) — MetalLB would hand them to services; pick addresses no node uses',
    ],
  ])('refuses %j', (pool, workloads, message) => {
    expect(poolProblem(pool, nodes, workloads)).toBe(message);
  });

  it('with Revue the pool must hold the 4 fixed addresses', () => {
    expect(poolProblem('192.168.1.96/30', nodes, ALL)).toBeUndefined();
    expect(poolProblem('192.168.1.96-192.168.1.98', nodes, ALL)).toBe(
      '192.168.1.96-192.168.1.98 holds 3 addresses, but the chosen workloads need at least 4 (ingress, media server, two Kafka brokers) — widen it',
    );
  });

  it('one node inside is named in the singular', () => {
    expect(poolProblem('192.168.1.101/32', nodes, MONITORING_ONLY)).toBe(
      '192.168.1.101/32 contains node address 192.168.1.101 (pi-1) — MetalLB would hand it to services; pick addresses no node uses',
    );
  });

  it('without Revue one address is enough (the ingress)', () => {
    expect(poolProblem('192.168.1.200/32', nodes, MONITORING_ONLY)).toBeUndefined();
  });
});

describe('fixedAddresses', () => {
  it('ingress, media server and two Kafka brokers from the start of the pool, with Revue', () => {
    expect(fixedAddresses('192.168.1.200-192.168.1.220', ALL)).toEqual({
      ingress: '192.168.1.200',
      mediaServer: '192.168.1.201',
      kafka: ['192.168.1.202', '192.168.1.203'],
    });
    expect(fixedAddresses('10.0.0.16/28', ALL)).toEqual({ ingress: '10.0.0.16', mediaServer: '10.0.0.17', kafka: ['10.0.0.18', '10.0.0.19'] });
  });

  it('only the ingress without Revue; nothing without workloads or with a malformed pool', () => {
    expect(fixedAddresses('192.168.1.200-192.168.1.220', MONITORING_ONLY)).toEqual({ ingress: '192.168.1.200' });
    expect(fixedAddresses('192.168.1.200-192.168.1.220', NONE)).toEqual({});
    expect(fixedAddresses('nonsense', ALL)).toEqual({});
    expect(fixedAddressCount(ALL)).toBe(4);
    expect(fixedAddressCount(MONITORING_ONLY)).toBe(1);
    expect(fixedAddressCount({ revue: false, monitoring: false, kafkaUi: true })).toBe(1);
    expect(fixedAddressCount(NONE)).toBe(0);
  });
});
