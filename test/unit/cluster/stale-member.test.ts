import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { freshK3sFacts, type K3sFacts } from '../../../cluster/facts.js';
import { forgetStaleMember } from '../../../cluster/first-server-run.js';
import { runClusterPhase, type ClusterNodeInput, type ClusterPhaseOptions } from '../../../cluster/phase.js';
import type { NodeReplacement } from '../../../cluster/plan.js';
import type { Session } from '../../../cluster/session.js';
import type { RunEvent } from '../../../core/events.js';
import { RunLog } from '../../../core/log.js';
import { deterministicRandom } from '../../fakes/deterministic-random.js';
import { FakeTransport, ok } from '../../fakes/fake-transport.js';
import { tempDir } from '../../fakes/temp-dir.js';
import { haInventory } from './helpers.js';

/**
 * A rebuilt first server (s1, no K3s) while s2 and s3 still run the cluster: its stale Node and etcd member on s2 are
 * deleted only with the operator's consent, asked for on its own. FakeTransports (test doubles) stand for the nodes; the
 * consent callback is a test double for up's question at the terminal.
 */
const inv = haInventory();
const STALE = 's1-0a1b2c3d';
const membersJson = (names: string[]) => JSON.stringify({ members: names.map((name, i) => ({ name, peerURLs: [`https://192.168.1.1${i + 1}:2380`] })) });
const running: K3sFacts = {
  ...freshK3sFacts(),
  installedVersion: 'v1.36.4+k3s1',
  unit: 'k3s',
  units: ['k3s'],
  active: true,
  nodePassword: true,
  datastore: 'etcd',
};

let dir: string;
let events: RunEvent[];
beforeEach(() => {
  dir = tempDir('stale-member');
  events = [];
});

function world() {
  const t = Object.fromEntries(inv.nodes.map((n) => [n.name, new FakeTransport(n.name)])) as Record<string, FakeTransport>;
  let members = [STALE, 's2-11223344', 's3-55667788'];
  t['s2']!.on('get --raw /db/info', () => ok(membersJson(members)));
  t['s2']!.on(/k3s kubectl delete node s1/, () => {
    members = members.filter((m) => m !== STALE);
    return ok();
  });
  const nodes: ClusterNodeInput[] = inv.nodes.map((node) => ({
    node,
    transport: t[node.name],
    k3s: node.name === 's1' ? freshK3sFacts() : node.role === 'server' ? running : freshK3sFacts(),
    report: { name: node.name, host: node.host, role: node.role, status: 'unchanged', steps: [], warnings: [] },
  }));
  return { t, nodes };
}

function options(nodes: ClusterNodeInput[], over: Partial<ClusterPhaseOptions> = {}): ClusterPhaseOptions {
  return {
    command: 'up',
    inventory: inv,
    stateDir: join(dir, 'state'),
    concurrency: 10,
    emit: (e) => events.push(e),
    log: new RunLog(join(dir, 'state'), 'test'),
    nodes,
    inventoryPath: 'home.yaml',
    readyTimeoutMs: 2000,
    random: deterministicRandom('stale-member'),
    pollIntervalMs: 10,
    env: {},
    ...over,
  };
}

const KEPT =
  'server s1 was wiped, and the cluster still holds its old Node and etcd member s1-0a1b2c3d on s2; K3s refuses it a new member under the same name ("duplicate node name found") until they are deleted, ' +
  'and up deletes them only with your consent: nothing was deleted and s1 was not joined. ' +
  'To delete them and join s1, run: revue-pi up -i home.yaml --replace-node s1 (add --yes where no terminal can ask), or run up at a terminal and type the cluster name when it asks.';

describe('the cluster phase and a rebuilt first server: its stale member is deleted only with consent', () => {
  it.each([
    ['declined when asked', { confirmNodeReplacement: async () => false }],
    ['no question possible (--yes, no terminal) and no --replace-node', {}],
    ['--replace-node names another server', { replaceNodes: ['s3'] }],
  ])('%s: no delete is sent, nothing is done on s1, it fails saying how to consent; the others follow as for a failed first server', async (_, over) => {
    const { t, nodes } = world();
    const asked: NodeReplacement[] = [];
    const o = options(nodes, over);
    if (o.confirmNodeReplacement) {
      const answer = o.confirmNodeReplacement;
      o.confirmNodeReplacement = (r) => (asked.push(r), answer(r));
    }
    await runClusterPhase(o);

    if ('confirmNodeReplacement' in over) expect(asked).toEqual([{ kind: 'stale-member', node: 's1', member: STALE, via: 's2' }]);
    expect(t['s2']!.ran('delete node')).toEqual([]);
    expect(t['s1']!.runs).toEqual([]);
    expect(t['s1']!.writes).toEqual([]);
    expect(nodes[0]!.report.error).toBe(KEPT);
    expect(nodes.slice(1).map((n) => n.report.error)).toEqual(['s2', 's3', 'a1'].map(() => `first server s1 failed: ${KEPT}`));
    for (const x of Object.values(t)) expect(x.unexpected).toEqual([]);
  });
});

describe('forgetStaleMember', () => {
  function session() {
    const { t, nodes } = world();
    const via = { ...nodes[1]!, step: { phase: 'cluster', step: 'k3s', status: 'unchanged', changes: [] }, changes: [] } as Session;
    const s1 = { ...nodes[0]!, step: { phase: 'cluster', step: 'k3s', status: 'unchanged', changes: [] }, changes: [], joinVia: via } as Session;
    return { t, s1 };
  }
  const change = { kind: 'forget-stale-member', node: 's1', member: STALE, via: 's2' } as const;

  it('the cluster name typed when asked: the delete goes to s2, and it waits until the member is gone', async () => {
    const { t, s1 } = session();
    const asked: NodeReplacement[] = [];
    const done = await forgetStaleMember(
      options([], {
        confirmNodeReplacement: async (r) => (asked.push(r), true),
      }),
      s1,
      change,
    );
    expect(asked).toEqual([{ kind: 'stale-member', node: 's1', member: STALE, via: 's2' }]);
    expect(t['s2']!.ran('k3s kubectl delete node s1')).toHaveLength(1);
    expect(done).toBe(
      'removed Node s1 and its stale etcd member s1-0a1b2c3d on s2 (left when s1 was wiped; K3s refuses a new member under the same name), with your consent (the cluster name typed)',
    );
  });

  it('--replace-node s1: no question, the delete goes to s2', async () => {
    const { t, s1 } = session();
    const asked: NodeReplacement[] = [];
    const done = await forgetStaleMember(options([], { replaceNodes: ['s1'], confirmNodeReplacement: async (r) => (asked.push(r), false) }), s1, change);
    expect(asked).toEqual([]);
    expect(t['s2']!.ran('k3s kubectl delete node s1')).toHaveLength(1);
    expect(done).toMatch(/, with your consent \(--replace-node s1\)$/);
  });

  it('declined: throws the sentence naming the flag, and sends no delete', async () => {
    const { t, s1 } = session();
    await expect(forgetStaleMember(options([], { confirmNodeReplacement: async () => false }), s1, change)).rejects.toThrow(KEPT);
    expect(t['s2']!.runs).toEqual([]);
  });
});
