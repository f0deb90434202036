import { describe, expect, it } from 'vitest';
import { firstServerProbeSections, k3sProbeSections, type K3sVersionCacheEntry } from '../../../cluster/facts.js';
import { clusterStep } from '../../../cluster/step.js';
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE } from '../../../workloads/labels.js';
import { probeNodeState } from '../../../pipeline/pipeline.js';
import { buildFactsScript } from '../../../provision/facts.js';
import { freshPiFacts } from '../../../provision/fresh.js';
import { planPreparation } from '../../../provision/prepare.js';
import { provisionStep } from '../../../provision/step.js';
import { workloadsProbeTarget, workloadsStep } from '../../../workloads/step.js';
import { FakeTransport, ok } from '../../fakes/fake-transport.js';
import { inventory } from '../cluster/helpers.js';

const cached: K3sVersionCacheEntry = {
  fingerprint: '1:2:3',
  version: 'v1.33.5+k3s1',
  files: { fingerprint: '10:20:30:40 /etc/rancher/k3s/config.yaml', config: 'node-name: pi-2\n', tokenFileSha256: 'a'.repeat(64), nodePassword: true },
};
const pageSizeOfBoot = { bootId: '0b5f-boot', pageSize: 4096 };

describe('the probe composed from the stages', () => {
  it("is one command holding every stage's sections, in the order the pipeline always sent (first server: facts, K3s, kubeconfig, fast check)", async () => {
    const workloads = workloadsProbeTarget(inventory());
    const t = new FakeTransport('pi-1').on(() => true, ok(''));
    await probeNodeState(t, cached, { firstServer: true, workloads, pageSizeOfBoot });
    const before = buildFactsScript([...k3sProbeSections(cached), ...firstServerProbeSections({ nodes: false }), workloads.fastCheck], { pageSizeOfBoot });
    expect(t.runs.map((r) => [r.script, r.opts?.sudo])).toEqual([[before.text, true]]);
  });

  it('on another node: facts and K3s only, as the login user while the cache knows the root-only files', async () => {
    const t = new FakeTransport('pi-2').on(() => true, ok(''));
    await probeNodeState(t, cached, { withoutRoot: true });
    expect(t.runs.map((r) => [r.script, r.opts?.sudo])).toEqual([[buildFactsScript(k3sProbeSections(cached, { withoutRoot: true })).text, false]]);
  });

  it("hands each stage its own sections of the answer: the fast check's Node items become the K3s facts' node list", async () => {
    const workloads = workloadsProbeTarget(inventory());
    const managed = JSON.stringify({ items: [] });
    const cluster = JSON.stringify({
      items: [
        { kind: 'Node', metadata: { name: 'pi-1' } },
        { kind: 'Pod', metadata: { name: 'x' } },
      ],
    });
    const t = new FakeTransport('pi-1').on(() => true, ok(`@@revue-pi@@ boot_id\n|b-1\n@@revue-pi@@ workloads_fast_check\n${managed}\n${cluster}\n`));
    const probed = await probeNodeState(t, undefined, { firstServer: true, workloads });
    expect(probed.facts.bootId).toBe('b-1');
    expect(probed.fastCheckOutput).toBe(`${managed}\n${cluster}`);
    expect(JSON.parse(probed.k3s.apiNodesJson!)).toEqual({ kind: 'List', items: [{ kind: 'Node', metadata: { name: 'pi-1' } }] });
  });
});

describe('provisionStep.apply', () => {
  const inv = inventory();
  const node = inv.nodes[0]!;
  const fresh = { ...freshPiFacts(node), bootId: 'boot-1' };
  const changes = planPreparation(fresh, node, inv);

  it('runs the one preparation command, waits for a new boot and returns what it did, the new probe and what is still wrong', async () => {
    const t = new FakeTransport('pi-1').on(() => true, ok(''));
    const order: string[] = [];
    // The new boot, still without the memory cgroup: reported, not thrown, so the caller records the probe first.
    const afterReboot = { facts: { ...fresh, bootId: 'boot-2' } };
    const applied = await provisionStep.apply({
      target: { node, inventory: inv },
      transport: t,
      facts: fresh,
      changes,
      commandSent: () => order.push('command sent'),
      onReboot: (reason) => order.push(`reboot: ${reason}`),
      probeAgain: async () => (order.push('probed'), afterReboot),
    });
    expect(t.runs).toHaveLength(1);
    expect(t.reconnects).toBe(1);
    expect(order).toEqual(['command sent', 'reboot: boot configuration changed', 'probed']);
    expect(applied.described).toEqual(changes.map(provisionStep.describe));
    expect(applied.rebooted).toBe(true);
    expect(applied.probed).toBe(afterReboot);
    expect(applied.problemsAfterReboot).toHaveLength(2);
    expect(applied.problemsAfterReboot[0]).toContain('node pi-1 rebooted but the memory cgroup is still inactive');
  });

  it('with nothing to change sends nothing and says the command is done at once', async () => {
    const t = new FakeTransport('pi-1');
    let sent = false;
    const applied = await provisionStep.apply({
      target: { node, inventory: inv },
      transport: t,
      facts: fresh,
      changes: [],
      commandSent: () => (sent = true),
      probeAgain: () => Promise.reject(new Error('no reboot, no probe')),
    });
    expect({ runs: t.runs.length, sent, applied }).toEqual({ runs: 0, sent: true, applied: { described: [], rebooted: false, problemsAfterReboot: [] } });
  });
});

describe('workloadsStep.plan and describe', () => {
  it('lists what the fast check shows the run would remove, data-holders marked as asked for on their own', () => {
    const target = workloadsProbeTarget(inventory());
    const labels = { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE };
    const managed = {
      items: [
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { namespace: 'revue', name: 'gone-config', labels } },
        { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { namespace: 'revue', name: 'gone-data', labels } },
      ],
    };
    const changes = workloadsStep.plan({ fastCheckOutput: `${JSON.stringify(managed)}\n${JSON.stringify({ items: [] })}` }, target);
    expect(changes.map(workloadsStep.describe)).toEqual([
      'remove ConfigMap revue/gone-config',
      'remove PersistentVolumeClaim revue/gone-data (its volume and the data on it are deleted with it) — holds data: asked for on its own later, kept unless you type the cluster name (or pass --prune-data)',
    ]);
  });

  it('plans nothing without a fast check answer (K3s not installed yet)', () => {
    expect(workloadsStep.plan({}, workloadsProbeTarget(inventory()))).toEqual([]);
  });
});

describe('clusterStep.plan', () => {
  it('is planClusterNode with the first server and token beside the facts', () => {
    const inv = inventory();
    const [first, agent] = inv.nodes as [(typeof inv.nodes)[0], (typeof inv.nodes)[0]];
    const facts = clusterStep.probe.read(new Map(), {});
    const planned = clusterStep.plan(facts, { node: agent, inventory: inv, firstServer: first, token: 'K10abc::server:secret' });
    expect(planned.map((c) => c.kind)).toEqual(['write-token', 'write-config', 'install']);
    expect(clusterStep.describe(planned[2]!)).toContain('agent');
  });
});
