import { describe, expect, it } from 'vitest';
import { runUpgrade } from '../../../cluster/day-two/upgrade-run.js';
import { RunLog } from '../../../core/log.js';
import type { InventoryNode } from '../../../core/inventory/schema.js';
import { FakeTransport, fail, ok } from '../../fakes/fake-transport.js';
import { inventory } from '../cluster/helpers.js';
import { tempDir } from '../../fakes/temp-dir.js';

const OLD = 'v1.35.2+k3s1';
const NEW = 'v1.36.4+k3s1';
const nodeJson = (name: string, version: string, extra: { server?: boolean; unschedulable?: boolean; marked?: boolean } = {}) => ({
  kind: 'Node',
  metadata: {
    name,
    labels: {
      ...(extra.server ? { 'node-role.kubernetes.io/control-plane': 'true' } : {}),
      ...(extra.marked ? { 'upgrade.revue-pi.io/cordoned': 'true' } : {}),
    },
  },
  spec: extra.unschedulable ? { unschedulable: true } : {},
  status: { nodeInfo: { kubeletVersion: version }, conditions: [{ type: 'Ready', status: 'True' }] },
});
const probe = (...nodes: unknown[]) =>
  `@@revue-pi@@ cluster\n${JSON.stringify({ kind: 'List', items: nodes })}\n\n@@revue-pi@@ etcd\nError from server (NotFound): the server could not find the requested resource\n\n@@revue-pi@@ datastore\nsqlite\n\n`;
const INVENTORY = inventory({ cluster: { name: 'home' } }, [
  { name: 'pi', host: '10.0.0.1', role: 'server' },
  { name: 'a1', host: '10.0.0.2', role: 'agent' },
]);

/** TEST DOUBLES: a SQLite server `pi` (already at the target) and an agent `a1`; unscripted commands fail the test. */
function cluster(a1: { drain: ReturnType<typeof ok> }) {
  const pi = new FakeTransport('pi');
  pi.on('k3s kubectl get nodes,pods', ok(probe(nodeJson('pi', NEW, { server: true }), nodeJson('a1', OLD))));
  pi.on(/^k3s kubectl label node a1 upgrade\.revue-pi\.io\/cordoned=true --overwrite$/, ok('node/a1 labeled\n'));
  pi.on(/^k3s kubectl drain a1 /, a1.drain);
  pi.on(/^k3s kubectl uncordon a1$/, ok('node/a1 uncordoned\n'));
  pi.on(/^k3s kubectl label node a1 upgrade\.revue-pi\.io\/cordoned-$/, ok('node/a1 unlabeled\n'));
  const agent = new FakeTransport('a1');
  const transports: Record<string, FakeTransport> = { pi, a1: agent };
  const open = async (node: InventoryNode) => transports[node.name]!;
  const stateDir = tempDir('upgrade-run');
  const run = () =>
    runUpgrade({
      inventory: INVENTORY,
      inventoryPath: 'home.yaml',
      target: NEW,
      targetFrom: '--to',
      stateDir,
      kubeconfigPath: `${stateDir}/kubeconfig`,
      drainTimeoutSeconds: 1,
      agentBatch: 2,
      dryRun: false,
      open,
      log: new RunLog(stateDir, 'upgrade'),
      progress: () => undefined,
      pollMs: 1,
    });
  return { pi, agent, run };
}

describe('runUpgrade with test doubles', () => {
  it('a drain blocked by a PodDisruptionBudget: the node is uncordoned and unlabelled, K3s on it untouched, and a re-run is named', async () => {
    const { pi, agent, run } = cluster({
      drain: fail(
        1,
        `error when evicting pods/"web-1" -n "d" (will retry after 5s): Cannot evict pod as it would violate the pod's disruption budget.\nerror: unable to drain node "a1" due to error: global timeout reached: 1s, continuing command...\n`,
        'node/a1 cordoned\nevicting pod d/web-1\n',
      ),
    });
    const result = await run();
    expect(result.exitCode).toBe(1);
    expect(result.nodes.map((n) => [n.name, n.status])).toEqual([['a1', 'failed']]);
    expect(result.error).toBe(
      `a1 was not upgraded (draining it failed (exit 1): error: unable to drain node "a1" due to error: global timeout reached: 1s; pods/"web-1" -n "d" refused: Cannot evict pod as it would violate the pod's disruption budget. a1 is schedulable again; K3s on it was not touched. Relax the PodDisruptionBudget that blocks it or raise --drain-timeout). Fix that and run revue-pi upgrade -i home.yaml again: it continues where this run stopped (nodes at ${NEW} are skipped, a node left cordoned is finished).`,
    );
    expect(pi.runs[0]!.script).toContain('k3s kubectl get nodes,pods');
    expect(pi.runs.slice(1).map((r) => r.script.split(' ').slice(0, 4).join(' '))).toEqual([
      'k3s kubectl label node',
      'k3s kubectl drain a1',
      'k3s kubectl uncordon a1',
      'k3s kubectl label node',
    ]);
    expect(agent.runs).toEqual([]);
    expect(pi.unexpected).toEqual([]);
  });
});
