import { describe, expect, it } from 'vitest';
import { parseClusterView } from '../../../cluster/day-two/cluster-view.js';
import {
  buildMarkCommand,
  buildUpgradeInstallScript,
  compareK3sVersions,
  formatUpgradePlan,
  nodeBackState,
  parseK3sVersion,
  planUpgrade,
  type UpgradeInput,
  type UpgradeNodeFacts,
} from '../../../cluster/day-two/upgrade.js';
import { inventory } from '../cluster/helpers.js';

const OLD = 'v1.35.2+k3s1';
const NEW = 'v1.36.4+k3s1';
const node = (name: string, role: 'server' | 'agent', extra: Partial<UpgradeNodeFacts> = {}): UpgradeNodeFacts => ({
  name,
  role,
  inInventory: true,
  inCluster: true,
  version: OLD,
  ready: 'True',
  unschedulable: false,
  marked: false,
  ...extra,
});
const members = ['s1', 's2', 's3'].map((n, i) => ({ name: `${n}-0000000${i}`, host: `10.0.0.${i + 1}`, isLearner: false }));
const input = (nodes: UpgradeNodeFacts[], extra: Partial<UpgradeInput> = {}): UpgradeInput => ({
  cluster: 'home',
  inventoryPath: 'home.yaml',
  target: NEW,
  targetFrom: '--to',
  nodes,
  datastore: 'etcd',
  members,
  agentBatch: 2,
  drainTimeoutSeconds: 120,
  backupFolder: '/state/home/backups',
  kubeconfigPath: '/home/me/.kube/config',
  ...extra,
});
const HA = [node('s1', 'server'), node('s2', 'server'), node('s3', 'server'), node('a1', 'agent'), node('a2', 'agent'), node('a3', 'agent')];

describe('K3s versions', () => {
  it('parses release names and orders them by minor, patch, then k3s build', () => {
    expect(parseK3sVersion('v1.36.4+k3s1')).toEqual({ major: 1, minor: 36, patch: 4, k3s: 1 });
    expect(parseK3sVersion('1.36.4')).toBeUndefined();
    expect(parseK3sVersion('v1.36.4-rc1+k3s1')).toBeUndefined();
    const sorted = ['v1.36.4+k3s2', 'v1.35.9+k3s1', 'v1.36.4+k3s1', 'v1.36.10+k3s1'].map((v) => parseK3sVersion(v)!).sort(compareK3sVersions);
    expect(sorted.map((v) => `${v.minor}.${v.patch}+${v.k3s}`)).toEqual(['35.9+1', '36.4+1', '36.4+2', '36.10+1']);
  });
});

describe('planUpgrade: refusals before anything changes', () => {
  it('refuses a downgrade, naming the nodes and their versions', () => {
    const plan = planUpgrade(input([node('s1', 'server', { version: 'v1.36.5+k3s1' }), node('a1', 'agent', { version: NEW })]));
    expect(plan.refused).toBe(
      's1 runs v1.36.5+k3s1, newer than v1.36.4+k3s1 (given with --to): that would be a downgrade, which K3s does not support. Pick a version at least as new, or go back by restoring an etcd snapshot taken before the upgrade (revue-pi backup --list). Nothing was changed.',
    );
  });

  it('refuses a skipped minor version and says which release to go to first', () => {
    const plan = planUpgrade(input(HA, { target: 'v1.37.0+k3s1', targetFrom: 'k3s.version' }));
    expect(plan.refused).toBe(
      "v1.37.0+k3s1 (the inventory's k3s.version) skips a minor version: s1 runs v1.35.2+k3s1, s2 runs v1.35.2+k3s1, s3 runs v1.35.2+k3s1, a1 runs v1.35.2+k3s1, a2 runs v1.35.2+k3s1, a3 runs v1.35.2+k3s1. Kubernetes upgrades one minor version at a time (docs.k3s.io/upgrades/manual, version skew policy). Upgrade to the newest v1.36 release first (revue-pi upgrade -i home.yaml --to v1.36.N+k3sM), then to v1.37.0+k3s1. Nothing was changed.",
    );
    // One node already a minor ahead is fine; the one still two behind is named.
    const mixed = planUpgrade(input([node('s1', 'server', { version: 'v1.36.0+k3s1' }), node('a1', 'agent', { version: 'v1.34.1+k3s1' })]));
    expect(mixed.refused).toContain('skips a minor version: a1 runs v1.34.1+k3s1.');
    expect(mixed.refused).toContain('Upgrade to the newest v1.35 release first');
  });

  it('refuses while another node is down or an etcd member is a learner, and when nodes and inventory disagree', () => {
    expect(planUpgrade(input([...HA.slice(0, 2), node('s3', 'server', { ready: 'Unknown' })])).refused).toBe(
      's3 is not Ready (Unknown): upgrading the others now could stop the cluster (a server restarting while another is down can cost etcd its quorum). Bring it back, or remove it (revue-pi remove-node NAME), then run upgrade again. Nothing was changed.',
    );
    expect(planUpgrade(input(HA, { members: [members[0]!, members[1]!, { ...members[2]!, isLearner: true }] })).refused).toBe(
      'etcd member s3-00000002 is still a learner (not yet a voter): wait until every server shows EtcdIsVoter=True (kubectl get nodes), then run upgrade again. Nothing was changed.',
    );
    expect(planUpgrade(input([...HA, node('a9', 'agent', { inCluster: false, version: undefined })])).refused).toBe(
      'a9 is in home.yaml but not in cluster home: upgrade works on the cluster as it runs. Run revue-pi up -i home.yaml first (it installs them), then upgrade. Nothing was changed.',
    );
    expect(planUpgrade(input([...HA, node('old', 'agent', { inInventory: false })])).refused).toContain(
      'old is in cluster home but not in home.yaml, so revue-pi cannot reach it over SSH to upgrade',
    );
  });
});

describe('planUpgrade: the order', () => {
  it('HA: a snapshot first, servers one at a time, agents in batches; the text names each step', () => {
    const i = input(HA);
    const plan = planUpgrade(i);
    expect(formatUpgradePlan(i, plan)).toBe(
      [
        'revue-pi upgrade of cluster home to v1.36.4+k3s1 (--to), embedded etcd:',
        '  1. etcd snapshot on a server, copied with the server token and config.yaml to /state/home/backups/ (as revue-pi backup)',
        '  servers, one at a time:',
        '  2. s1 v1.35.2+k3s1 → v1.36.4+k3s1: cordon, drain (PodDisruptionBudgets respected, at most 120 s), install v1.36.4+k3s1 with its config.yaml, wait until it reports v1.36.4+k3s1, Ready, EtcdIsVoter=True, its /readyz ok and every etcd member a voter, uncordon',
        '  3. s2 v1.35.2+k3s1 → v1.36.4+k3s1: cordon, drain (PodDisruptionBudgets respected, at most 120 s), install v1.36.4+k3s1 with its config.yaml, wait until it reports v1.36.4+k3s1, Ready, EtcdIsVoter=True, its /readyz ok and every etcd member a voter, uncordon',
        '  4. s3 v1.35.2+k3s1 → v1.36.4+k3s1: cordon, drain (PodDisruptionBudgets respected, at most 120 s), install v1.36.4+k3s1 with its config.yaml, wait until it reports v1.36.4+k3s1, Ready, EtcdIsVoter=True, its /readyz ok and every etcd member a voter, uncordon',
        '  agents, at most 2 at a time:',
        '  5. a1 v1.35.2+k3s1 → v1.36.4+k3s1: cordon, drain (PodDisruptionBudgets respected, at most 120 s), install v1.36.4+k3s1 with its config.yaml, wait until it reports v1.36.4+k3s1 and Ready, uncordon',
        '     a2 v1.35.2+k3s1 → v1.36.4+k3s1: cordon, drain (PodDisruptionBudgets respected, at most 120 s), install v1.36.4+k3s1 with its config.yaml, wait until it reports v1.36.4+k3s1 and Ready, uncordon',
        '  6. a3 v1.35.2+k3s1 → v1.36.4+k3s1: cordon, drain (PodDisruptionBudgets respected, at most 120 s), install v1.36.4+k3s1 with its config.yaml, wait until it reports v1.36.4+k3s1 and Ready, uncordon',
        "  7. merge the cluster's kubeconfig again into /home/me/.kube/config",
        '',
      ].join('\n'),
    );
  });

  it('resumed: nodes at the target are skipped, one left cordoned by the interrupted run is finished (even not Ready)', () => {
    const plan = planUpgrade(
      input([
        node('s1', 'server', { version: NEW }),
        node('s2', 'server', { version: NEW, unschedulable: true, marked: true, ready: 'Unknown' }),
        node('s3', 'server'),
        node('a1', 'agent', { version: NEW }),
      ]),
    );
    if (plan.refused !== undefined) throw new Error(plan.refused);
    expect(plan.servers.map((s) => [s.name, s.action])).toEqual([
      ['s2', 'finish'],
      ['s3', 'upgrade'],
    ]);
    expect(plan.agentBatches).toEqual([]);
    expect(plan.upToDate).toEqual(['s1', 'a1']);
    expect(formatUpgradePlan(input([]), plan)).toContain(
      '  2. s2 (already v1.36.4+k3s1, left cordoned by an interrupted run): wait until it reports v1.36.4+k3s1, Ready, EtcdIsVoter=True, its /readyz ok and every etcd member a voter, uncordon\n',
    );
  });

  it('a node the operator had cordoned stays cordoned; nothing to do when every node is at the target', () => {
    const plan = planUpgrade(input([node('s1', 'server', { version: NEW }), node('a1', 'agent', { unschedulable: true })]));
    if (plan.refused !== undefined) throw new Error(plan.refused);
    expect(plan.agentBatches[0]![0]!.keepCordoned).toBe(true);
    expect(plan.warnings).toEqual(['a1 was cordoned before the upgrade (not by revue-pi): it is drained and upgraded, and left cordoned.']);
    const done = planUpgrade(input([node('s1', 'server', { version: NEW })]));
    expect(formatUpgradePlan(input([]), done)).toBe(
      'revue-pi upgrade of cluster home to v1.36.4+k3s1 (--to), embedded etcd:\n  nothing to do: every node runs v1.36.4+k3s1.\n',
    );
  });

  it('a single SQLite server: no snapshot, and what it cannot guarantee is said', () => {
    const i = input([node('pi', 'server')], { datastore: 'sqlite', members: undefined });
    const plan = planUpgrade(i);
    if (plan.refused !== undefined) throw new Error(plan.refused);
    expect(plan.backup).toBe(false);
    expect(
      formatUpgradePlan(i, plan)
        .split('\n')
        .filter((l) => l.startsWith('Not guaranteed')),
    ).toEqual([
      'Not guaranteed: cluster home keeps its state in SQLite on its single server, not in embedded etcd: no snapshot can be taken first (revue-pi backup explains how to copy it by hand, K3s stopped);',
      "Not guaranteed: the cluster's API is down while that server restarts with the new version (there is no other server to answer), and its pods are not moved anywhere during it.",
    ]);
  });
});

describe('nodeBackState: when a node counts as back', () => {
  const view = (version: string, ready: string, voter?: string) =>
    parseClusterView(
      JSON.stringify({
        kind: 'List',
        items: [
          {
            kind: 'Node',
            metadata: { name: 's2', labels: { 'node-role.kubernetes.io/etcd': 'true' } },
            spec: {},
            status: {
              nodeInfo: { kubeletVersion: version },
              conditions: [{ type: 'Ready', status: ready }, ...(voter ? [{ type: 'EtcdIsVoter', status: voter }] : [])],
            },
          },
        ],
      }),
    );
  const s2 = { name: 's2', role: 'server' as const };
  const etcd = { members, expected: 3, readyz: true };
  it('needs the new version reported (Ready alone is stale right after a restart), EtcdIsVoter, /readyz and all members voters', () => {
    expect(nodeBackState(view(OLD, 'True', 'True'), s2, NEW, etcd)).toBe('s2 still reports v1.35.2+k3s1');
    expect(nodeBackState(view(NEW, 'Unknown', 'True'), s2, NEW, etcd)).toBe('s2 is not Ready (Unknown)');
    expect(nodeBackState(view(NEW, 'True', 'False'), s2, NEW, etcd)).toBe("s2's EtcdIsVoter is False");
    expect(nodeBackState(view(NEW, 'True', 'True'), s2, NEW, { ...etcd, readyz: false })).toBe("s2's /readyz is not ok (its etcd is not serving yet)");
    expect(nodeBackState(view(NEW, 'True', 'True'), s2, NEW, { ...etcd, members: [members[0]!, members[1]!] })).toBe('etcd lists 2 members, not 3');
    expect(nodeBackState(view(NEW, 'True', 'True'), s2, NEW, etcd)).toBeUndefined();
    // An agent (no etcd) is back with the version and Ready.
    expect(nodeBackState(view(NEW, 'True'), { name: 's2', role: 'agent' }, NEW)).toBeUndefined();
  });
});

describe('commands', () => {
  it('the installer runs with the target version and a forced restart, never the channel', () => {
    const inv = inventory({ k3s: { channel: 'stable' } }, [{ name: 'a1', host: '10.0.0.9', role: 'agent' }]);
    expect(String(buildUpgradeInstallScript(inv, inv.nodes[0]!, NEW))).toBe(
      "curl -sfL https://get.k3s.io | INSTALL_K3S_FORCE_RESTART=true INSTALL_K3S_VERSION=v1.36.4+k3s1 sh -s - agent || exit $?\nif [ ! -f /etc/systemd/system/k3s-agent.service ]; then echo 'revue-pi: the K3s installer exited without installing k3s-agent.service (did the download from https://get.k3s.io fail?)' >&2; exit 1; fi\n",
    );
    expect(String(buildMarkCommand('a1'))).toBe('k3s kubectl label node a1 upgrade.revue-pi.io/cordoned=true --overwrite');
  });
});
