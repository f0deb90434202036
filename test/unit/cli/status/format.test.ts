import { describe, expect, it } from 'vitest';
import { REVUE_STOCK_LOGINS } from '../../../../workloads/access.js';
import { formatStatus, formatTable, wrap } from '../../../../cli/status/format.js';
import type { StatusReport } from '../../../../cli/status/report.js';

const sample: StatusReport = {
  cluster: 'home',
  ok: false,
  exitCode: 1,
  source: { via: 'ssh', server: 'pi-1' },
  nodes: [
    {
      name: 'pi-1',
      role: 'server',
      address: '192.168.1.11',
      reachable: true,
      error: null,
      k3sVersion: 'v1.33.5+k3s1',
      k3sRunning: true,
      ready: 'Ready',
      model: 'Raspberry Pi 5 Model B Rev 1.0',
      os: 'Debian GNU/Linux 12 (bookworm)',
      arch: 'aarch64',
      memoryBytes: 8443183104,
      memoryCgroup: true,
      pageSize: 4096,
      datastore: 'etcd',
    },
    {
      name: 'pi-2',
      role: 'agent',
      address: '192.168.1.12',
      reachable: true,
      error: null,
      k3sVersion: null,
      k3sRunning: false,
      ready: 'NotRegistered',
      model: 'Raspberry Pi 4 Model B Rev 1.5',
      os: 'Debian GNU/Linux 12 (bookworm)',
      arch: 'aarch64',
      memoryBytes: 4000000000,
      memoryCgroup: false,
      pageSize: 16384,
      datastore: null,
    },
    {
      name: 'pi-3',
      role: 'agent',
      address: 'pi-3.local',
      reachable: false,
      error: 'Could not connect to node pi-3 (pi-3.local:22): getaddrinfo ENOTFOUND pi-3.local.',
      k3sVersion: null,
      k3sRunning: null,
      ready: 'Unknown',
      model: null,
      os: null,
      arch: null,
      memoryBytes: null,
      memoryCgroup: null,
      pageSize: null,
      datastore: null,
    },
  ],
  metallb: {
    enabled: true,
    poolsFrom: 'cluster',
    pools: [
      { name: 'lan', addresses: ['192.168.1.241-192.168.1.250'], autoAssign: true },
      { name: 'revue-pi-fixed', addresses: ['192.168.1.240/32'], autoAssign: false },
    ],
    services: [
      { namespace: 'kube-system', name: 'traefik', requested: ['192.168.1.240'], assigned: ['192.168.1.240'] },
      { namespace: 'revue', name: 'revue-media-server', requested: [], assigned: [] },
    ],
  },
  workloads: [
    { namespace: 'kube-system', kind: 'Deployment', name: 'traefik', ready: 1, desired: 1, state: 'ready' },
    { namespace: 'metallb-system', kind: 'DaemonSet', name: 'speaker', ready: 2, desired: 3, state: 'not-ready' },
    { namespace: 'revue', kind: 'Deployment', name: 'revue-auth', ready: 0, desired: 1, state: 'missing' },
  ],
  charts: [
    { namespace: 'kube-system', name: 'grafana', targetNamespace: 'monitoring', job: 'helm-install-grafana', state: 'installed', failedAttempts: 0 },
    { namespace: 'kube-system', name: 'prometheus', targetNamespace: 'monitoring', job: 'helm-install-prometheus', state: 'failed', failedAttempts: 6 },
  ],
  hpas: [
    {
      namespace: 'revue',
      name: 'revue-frontend-hpa',
      target: 'Deployment/revue-frontend',
      minReplicas: 1,
      maxReplicas: 5,
      currentReplicas: 2,
      desiredReplicas: 3,
      cpuCurrent: 83,
      cpuTarget: 60,
    },
    { namespace: 'revue', name: 'revue-log-hpa', target: 'Deployment/revue-log', minReplicas: 1, maxReplicas: 5, cpuTarget: 60 },
  ],
  access: {
    ingressAddress: '192.168.1.240',
    urls: [
      { name: 'Revue', url: 'http://frontend.revue.local/' },
      { name: 'Traefik dashboard', url: 'http://traefik.revue.local/dashboard/' },
    ],
    hosts: ['frontend.revue.local', 'revue-frontend', 'traefik.revue.local'],
    hostsEntries: [
      {
        address: '192.168.1.240',
        lookup: 'kubectl -n kube-system get service traefik',
        target: { kind: 'ingress' },
        names: ['frontend.revue.local', 'revue-frontend', 'traefik.revue.local'],
      },
      {
        lookup: 'kubectl -n revue get service revue-media-server',
        target: { kind: 'service', namespace: 'revue', name: 'revue-media-server' },
        names: ['revue-media-server'],
      },
    ],
    hostsHint:
      "Add to /etc/hosts on the computer you browse from (Revue's web UI calls its services as revue-<service>, which no DNS zone for *.revue.local serves): for <revue-media-server-address> read the EXTERNAL-IP of kubectl -n revue get service revue-media-server.",
    revueLogins: REVUE_STOCK_LOGINS,
  },
  problems: [
    'Node pi-3 (pi-3.local) could not be reached or probed: Could not connect to node pi-3 (pi-3.local:22): getaddrinfo ENOTFOUND pi-3.local. Check nodes[].host and ssh.port for pi-3 in the inventory, that the node is powered on, and that SSH is enabled on it.',
    'K3s is not installed on node pi-2; run revue-pi up.',
  ],
  notes: [],
};

describe('formatStatus', () => {
  it('prints every section, aligned, with the problems last', () => {
    expect(formatStatus(sample)).toBe(
      [
        'Cluster home: 3 nodes, read over SSH from pi-1 (k3s kubectl).',
        '',
        "Nodes (READY = the cluster's Ready condition; ? = unknown)",
        '  NAME  ROLE    ADDRESS       K3S           READY       MEM CGROUP  PAGE  MODEL',
        '  pi-1  server  192.168.1.11  v1.33.5+k3s1  Ready       on          4K    Pi 5 Model B Rev 1.0',
        '  pi-2  agent   192.168.1.12  none          not joined  OFF         16K   Pi 4 Model B Rev 1.5',
        '  pi-3  agent   pi-3.local    -             Unknown     -           -     UNREACHABLE (see below)',
        '',
        'MetalLB',
        '  POOL            AUTO-ASSIGN  ADDRESSES',
        '  lan             yes          192.168.1.241-192.168.1.250',
        '  revue-pi-fixed  no           192.168.1.240/32',
        '  SERVICE                   ASKS FOR       HANDED OUT',
        '  kube-system/traefik       192.168.1.240  192.168.1.240',
        '  revue/revue-media-server  any            NONE YET',
        '',
        'Workloads: 1 ready, 1 not ready, 1 missing',
        '  NAMESPACE       KIND        NAME        READY',
        '  kube-system     Deployment  traefik     1/1',
        '  metallb-system  DaemonSet   speaker     2/3  NOT READY',
        '  revue           Deployment  revue-auth  MISSING',
        '',
        "Helm charts (installed by K3s's helm-controller, one Job each)",
        '  HELMCHART               RELEASE IN  INSTALL JOB              STATE',
        '  kube-system/grafana     monitoring  helm-install-grafana     installed',
        '  kube-system/prometheus  monitoring  helm-install-prometheus  FAILED (6 failed attempts)',
        '',
        'Autoscalers (HPA): replicas now/wanted, CPU now/target (? = no reading yet)',
        '  NAMESPACE  NAME                TARGET                     NOW/WANTED  MIN-MAX  CPU/TARGET',
        '  revue      revue-frontend-hpa  Deployment/revue-frontend  2/3         1-5      83%/60%',
        '  revue      revue-log-hpa       Deployment/revue-log       ?/?         1-5      ?/60%',
        '',
        'Access',
        '  Ingress address: 192.168.1.240 (handed out to Traefik)',
        '  Revue              http://frontend.revue.local/',
        '  Traefik dashboard  http://traefik.revue.local/dashboard/',
        "  Add to /etc/hosts on the computer you browse from (Revue's web UI calls its services as",
        '  revue-<service>, which no DNS zone for *.revue.local serves): for <revue-media-server-address>',
        '  read the EXTERNAL-IP of kubectl -n revue get service revue-media-server.',
        '    192.168.1.240 frontend.revue.local revue-frontend traefik.revue.local',
        '    <revue-media-server-address> revue-media-server',
        '  Revue logins: admin (role admin) and user (role guardian), both with password "user": Revue\'s',
        '  stock users, open to anyone who reaches the web UI. Revue cannot change a password; replace its',
        '  hash in the auth database as the README ("Revue\'s logins") shows.',
        '',
        '2 problems:',
        '  - Node pi-3 (pi-3.local) could not be reached or probed: Could not connect to node pi-3',
        '    (pi-3.local:22): getaddrinfo ENOTFOUND pi-3.local. Check nodes[].host and ssh.port for pi-3 in',
        '    the inventory, that the node is powered on, and that SSH is enabled on it.',
        '  - K3s is not installed on node pi-2; run revue-pi up.',
      ].join('\n'),
    );
  });

  it('stays within the width, also with long names and many problems', () => {
    const long: StatusReport = {
      ...sample,
      nodes: sample.nodes.map((n) => ({ ...n, name: `${n.name}-in-the-garage-rack`, address: 'raspberry-pi-number-three.home.arpa' })),
      workloads: [
        {
          namespace: 'a-very-long-application-namespace',
          kind: 'StatefulSet',
          name: 'prometheus-server-with-a-long-name-indeed',
          ready: 1,
          desired: 1,
          state: 'ready',
        },
      ],
    };
    for (const width of [100, 80]) {
      for (const line of formatStatus(long, width).split('\n')) expect(line.length, line).toBeLessThanOrEqual(width);
    }
    expect(formatStatus(long, 80)).toMatch(/pi-1-in-the-garage-rack  server  raspberry-pi-number-three\.home\.arpa .*…$/m);
  });

  it('a healthy cluster ends with one "All good" line; an unread cluster says why its parts are unknown', () => {
    const good: StatusReport = { ...sample, ok: true, exitCode: 0, problems: [] };
    expect(formatStatus(good).split('\n').at(-1)).toBe('All good: every node reachable and Ready, every workload ready.');
    const unread: StatusReport = {
      ...sample,
      source: { via: 'none', error: 'The cluster could not be read over SSH from any server (pi-1: not reachable).' },
      nodes: sample.nodes.map((n) => ({ ...n, ready: null })),
      metallb: { ...sample.metallb, poolsFrom: 'inventory', services: [] },
      workloads: [],
      charts: [],
      hpas: [],
    };
    const text = formatStatus(unread);
    expect(text.split('\n')[0]).toBe('Cluster home: 3 nodes; the cluster itself could not be read (see the problems below).');
    expect(text).toMatch(/^ {2}pi-1 +server +192\.168\.1\.11 +v1\.33\.5\+k3s1 +\? +on/m);
    expect(text).toContain('  POOL            AUTO-ASSIGN  ADDRESSES (from the inventory)');
    expect(text).toContain('Workloads: 0 ready, 0 not ready, 0 missing\n  unknown (the cluster could not be read)');
    expect(text).toContain('  no LoadBalancer Services');
    expect(text).toContain("Helm charts (installed by K3s's helm-controller, one Job each)\n  unknown (the cluster could not be read)");
    expect(text).toContain('Autoscalers (HPA): replicas now/wanted, CPU now/target (? = no reading yet)\n  none');
  });

  it('names every install Job state; no charts (monitoring off) is "none"', () => {
    const states: StatusReport = {
      ...sample,
      charts: (['installed', 'installing', 'retrying', 'failed', 'missing', 'outdated'] as const).map((state, i) => ({
        namespace: 'kube-system',
        name: `c${i}`,
        targetNamespace: 'monitoring',
        job: `helm-install-c${i}`,
        state,
        failedAttempts: state === 'retrying' ? 1 : state === 'failed' ? 1000 : 0,
      })),
    };
    const rows = formatStatus(states)
      .split('\n')
      .filter((l) => l.startsWith('  kube-system/c'));
    expect(rows.map((r) => r.split(/ {2,}/).at(-1))).toEqual([
      'installed',
      'INSTALLING',
      'RETRYING (1 failed attempt)',
      'FAILED (1000 failed attempts)',
      'NO JOB: never installed',
      'UPDATING: Job of an earlier spec',
    ]);
    expect(formatStatus({ ...sample, charts: [] })).toContain("Helm charts (installed by K3s's helm-controller, one Job each)\n  none\n");
  });

  it("says when the ingress address is the inventory's and not handed out yet, and when none is known", () => {
    const waiting: StatusReport = {
      ...sample,
      metallb: { ...sample.metallb, services: [{ namespace: 'kube-system', name: 'traefik', requested: ['192.168.1.240'], assigned: [] }] },
    };
    expect(formatStatus(waiting)).toContain('  Ingress address: 192.168.1.240 (fixed in the inventory; not handed out yet)');
    const unknown: StatusReport = { ...sample, access: { ...sample.access, ingressAddress: undefined } };
    expect(formatStatus(unknown)).toContain('  Ingress address: not known yet\n');
  });
});

describe('formatTable', () => {
  it('pads every column but the last, two spaces apart, indented', () => {
    expect(
      formatTable(
        ['A', 'LONG HEADER', 'C'],
        [
          ['xyz', 'b', 'last'],
          ['', 'bb', ''],
        ],
      ),
    ).toEqual(['  A    LONG HEADER  C', '  xyz  b            last', '       bb']);
  });
  it('cuts a line that passes the width with …', () => {
    expect(formatTable(['K', 'V'], [['k', 'a value that is far too long']], 16)).toEqual(['  K  V', '  k  a value th…']);
  });
});

describe('wrap', () => {
  it('breaks at spaces, with a first-line prefix and aligned continuation lines', () => {
    expect(wrap('one two three four five six', 14, '  - ')).toEqual(['  - one two', '    three four', '    five six']);
  });
  it('keeps a word longer than the width whole on its own line', () => {
    expect(wrap('a https://example.invalid/a/very/long/url b', 12, '')).toEqual(['a', 'https://example.invalid/a/very/long/url', 'b']);
  });
});
