import { chmodSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runStatusCommand } from '../../../../cli/commands/status.js';
import { ConnectionError } from '../../../../core/errors.js';
import type { InventoryNode } from '../../../../core/inventory/schema.js';
import type { StatusReport } from '../../../../cli/status/report.js';
import { FakeKubectl } from '../../../fakes/fake-kubectl.js';
import { FakeTransport, ok } from '../../../fakes/fake-transport.js';
import { tempDir } from '../../../fakes/temp-dir.js';

/**
 * The command's orchestration with three servers, on the Transport and Kubectl test doubles: the lab's K3s stand-in forwards
 * every API call of a joined server to the first one, so "the first server is down, another one answers" cannot
 * be shown there (the single-server paths run on the lab: test/integration/status.test.ts).
 */
const PROBE = readFileSync(new URL('../../../fixtures/probe/pi5-bookworm-fresh.txt', import.meta.url), 'utf8');
const K3S_SECTIONS = '@@revue-pi@@ k3s_version\nk3s version v1.33.5+k3s1 (revue-pi test)\n@@revue-pi@@ k3s_units\nk3s active\n';
const BASE_TYPES = ['nodes', 'deployments.apps', 'statefulsets.apps', 'daemonsets.apps', 'services', 'horizontalpodautoscalers.autoscaling', 'jobs.batch'];
/** The one read status makes, with MetalLB's pools, and again without them. */
const FULL = { resources: [...BASE_TYPES, 'ipaddresspools.metallb.io'], allNamespaces: true };
const NO_POOLS = { resources: BASE_TYPES, allNamespaces: true };
const NODES = ['pi-1', 'pi-2', 'pi-3'].map((name) => ({
  apiVersion: 'v1',
  kind: 'Node' as const,
  metadata: { name },
  status: { conditions: [{ type: 'Ready', status: name === 'pi-1' ? 'Unknown' : 'True' }] },
}));
const LIST = JSON.stringify({ apiVersion: 'v1', kind: 'List', items: NODES });

function setup() {
  const dir = tempDir('status-unit');
  const inventory = join(dir, 'inventory.yaml');
  writeFileSync(
    inventory,
    [
      'cluster: { name: ha }',
      'ssh: { user: pi }',
      'nodes:',
      '  - { name: pi-1, host: 127.0.0.21, role: server }',
      '  - { name: pi-2, host: 127.0.0.22, role: server }',
      '  - { name: pi-3, host: 127.0.0.23, role: server }',
      'network:',
      '  metallb: { pools: [{ name: lan, addresses: [127.0.0.200-127.0.0.220] }] }',
      '',
    ].join('\n'),
  );
  const fakes = new Map<string, FakeTransport>();
  for (const name of ['pi-2', 'pi-3']) fakes.set(name, new FakeTransport(name).on('@@revue-pi@@', ok(PROBE + K3S_SECTIONS)));
  // Each server's API: the three nodes, unless a test scripts a failure.
  const kubectls = new Map(['pi-2', 'pi-3'].map((name) => [name, new FakeKubectl(name, NODES)]));
  const kubectlOn = (transport: { nodeName: string }) => kubectls.get(transport.nodeName)!;
  const opened: string[] = [];
  const openTransport = async (node: InventoryNode) => {
    opened.push(node.name);
    if (node.name === 'pi-1') throw new ConnectionError('pi-1', 'Could not connect to node pi-1 (127.0.0.21:22): connect ECONNREFUSED 127.0.0.21:22.');
    return fakes.get(node.name)!;
  };
  const out = new PassThrough();
  let text = '';
  out.on('data', (d) => (text += d));
  return { dir, inventory, fakes, kubectls, kubectlOn, opened, openTransport, out, output: () => text };
}

describe('runStatusCommand with an inventory that has an error', () => {
  it('exits 2 before any connection, with the file and the issue (as JSON with --json)', async () => {
    const t = setup();
    writeFileSync(t.inventory, readFileSync(t.inventory, 'utf8').replace('role: server }', 'role: master }'));
    const code = await runStatusCommand({ inventory: t.inventory, stateDir: t.dir, json: true, openTransport: t.openTransport, out: t.out });
    expect(code).toBe(2);
    expect(t.opened).toEqual([]);
    const printed = JSON.parse(t.output()) as { ok: boolean; exitCode: number; error: { file: string; issues: { path: string }[] } };
    expect(printed).toMatchObject({ ok: false, exitCode: 2, error: { file: t.inventory } });
    expect(printed.error.issues.map((i) => i.path).join(' ')).toMatch(/role/);
  });
});

describe('runStatusCommand (three servers, the first one down)', () => {
  it('reads the cluster from the next server that answers; retries without pools when MetalLB is not installed', async () => {
    const t = setup();
    // pi-2: MetalLB's CRDs are missing there, and then its API is not up either; pi-3 answers.
    t.kubectls
      .get('pi-2')!
      .fail('ipaddresspools.metallb.io', 1, 'error: the server doesn\'t have a resource type "ipaddresspools"')
      .fail(undefined, 1, 'The connection to the server 127.0.0.1:6443 was refused');

    const code = await runStatusCommand({
      inventory: t.inventory,
      json: true,
      stateDir: t.dir,
      out: t.out,
      openTransport: t.openTransport,
      kubectlOn: t.kubectlOn,
      kubeconfig: join(t.dir, 'no-kubeconfig'),
    });
    const report = JSON.parse(t.output()) as StatusReport;

    expect(code).toBe(1);
    expect(report.source).toEqual({ via: 'ssh', server: 'pi-3' });
    expect(report.nodes.map((n) => [n.name, n.reachable, n.ready, n.k3sVersion])).toEqual([
      ['pi-1', false, 'Unknown', null],
      ['pi-2', true, 'Ready', 'v1.33.5+k3s1'],
      ['pi-3', true, 'Ready', 'v1.33.5+k3s1'],
    ]);
    expect(report.problems[0]).toBe(
      'Node pi-1 (127.0.0.21) could not be reached or probed: Could not connect to node pi-1 (127.0.0.21:22): connect ECONNREFUSED 127.0.0.21:22.',
    );
    // Each reachable node: one probe (with sudo), and kubectl only where needed; nothing written anywhere.
    expect(t.fakes.get('pi-2')!.runs.map((r) => [r.script.includes('@@revue-pi@@') ? 'probe' : r.script, r.opts?.sudo])).toEqual([['probe', true]]);
    expect(t.kubectls.get('pi-2')!.queries).toEqual([FULL, NO_POOLS]);
    expect(t.kubectls.get('pi-3')!.queries).toEqual([FULL]);
    for (const fake of t.fakes.values()) {
      expect(fake.writes).toEqual([]);
      expect(fake.unexpected).toEqual([]);
      expect(fake.closed).toBe(true);
    }
    expect(t.opened.sort()).toEqual(['pi-1', 'pi-2', 'pi-3']);
    expect(readdirSync(join(t.dir, 'logs')).filter((f) => f.startsWith('status-'))).toHaveLength(1);
  });

  it('no server answers: every reason is named, the nodes are still shown', async () => {
    const t = setup();
    t.kubectls.get('pi-2')!.fail(undefined, 1, 'The connection to the server 127.0.0.1:6443 was refused - did you specify the right host or port?');
    t.kubectls.get('pi-3')!.print(undefined, 'not json');

    const code = await runStatusCommand({
      inventory: t.inventory,
      json: true,
      stateDir: t.dir,
      out: t.out,
      openTransport: t.openTransport,
      kubectlOn: t.kubectlOn,
      kubeconfig: join(t.dir, 'no-kubeconfig'),
    });
    const report = JSON.parse(t.output()) as StatusReport;

    expect(code).toBe(1);
    expect(report.source).toEqual({
      via: 'none',
      error:
        'The cluster could not be read over SSH from any server (pi-1: not reachable; ' +
        'pi-2: k3s kubectl exited 1: The connection to the server 127.0.0.1:6443 was refused - did you specify the right host or port?; ' +
        'pi-3: `k3s kubectl get nodes,deployments.apps,statefulsets.apps,daemonsets.apps,services,horizontalpodautoscalers.autoscaling,jobs.batch,ipaddresspools.metallb.io -A -o json` printed something that is not JSON: not json); node readiness and workloads are unknown.',
    });
    expect(report.nodes.map((n) => [n.name, n.reachable, n.ready])).toEqual([
      ['pi-1', false, null],
      ['pi-2', true, null],
      ['pi-3', true, null],
    ]);
  });
});

/**
 * A TEST DOUBLE for the operator's local `kubectl` (a shell script first on PATH): no Kubernetes API can run here.
 * It prints the list when called with the cluster's context, and fails like kubectl when the API is down.
 */
function localKubectl(dir: string, behaviour: 'answers' | 'api-down'): NodeJS.ProcessEnv {
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(dir, 'list.json'), LIST);
  writeFileSync(join(dir, 'args'), '');
  const script =
    behaviour === 'answers'
      ? `#!/bin/sh\necho "$@" >> '${join(dir, 'args')}'\ncat '${join(dir, 'list.json')}'\n`
      : `#!/bin/sh\necho "$@" >> '${join(dir, 'args')}'\necho 'Unable to connect to the server: dial tcp 127.0.0.21:6443: connect: connection refused' >&2\nexit 1\n`;
  writeFileSync(join(bin, 'kubectl'), script);
  chmodSync(join(bin, 'kubectl'), 0o755);
  writeFileSync(
    join(dir, 'kubeconfig'),
    'apiVersion: v1\nkind: Config\ncontexts:\n- name: ha\n  context: {cluster: ha, user: ha}\n- name: work\n  context: {cluster: work, user: work}\n',
  );
  return { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` };
}

describe('runStatusCommand from this computer, through the merged kubeconfig', () => {
  it("reads the cluster with the local kubectl and the cluster's context; no server runs kubectl", async () => {
    const t = setup();
    const env = localKubectl(t.dir, 'answers');
    const code = await runStatusCommand({
      inventory: t.inventory,
      json: true,
      stateDir: t.dir,
      out: t.out,
      openTransport: t.openTransport,
      kubectlOn: t.kubectlOn,
      kubeconfig: join(t.dir, 'kubeconfig'),
      env,
    });
    const report = JSON.parse(t.output()) as StatusReport;
    expect(code).toBe(1);
    expect(report.source).toEqual({ via: 'kubeconfig', context: 'ha' });
    expect(report.nodes.map((n) => [n.name, n.ready])).toEqual([
      ['pi-1', 'Unknown'],
      ['pi-2', 'Ready'],
      ['pi-3', 'Ready'],
    ]);
    expect(readFileSync(join(t.dir, 'args'), 'utf8')).toBe(
      `--kubeconfig ${join(t.dir, 'kubeconfig')} --context ha get nodes,deployments.apps,statefulsets.apps,daemonsets.apps,services,horizontalpodautoscalers.autoscaling,jobs.batch,ipaddresspools.metallb.io -A -o json --request-timeout=5s\n`,
    );
    for (const fake of t.fakes.values()) expect(fake.runs.map((r) => (r.script.includes('@@revue-pi@@') ? 'probe' : r.script))).toEqual(['probe']);
  });

  it('falls back to SSH on a server when the API does not answer from here', async () => {
    const t = setup();
    const env = localKubectl(t.dir, 'api-down');
    const code = await runStatusCommand({
      inventory: t.inventory,
      json: true,
      stateDir: t.dir,
      out: t.out,
      openTransport: t.openTransport,
      kubectlOn: t.kubectlOn,
      kubeconfig: join(t.dir, 'kubeconfig'),
      env,
    });
    const report = JSON.parse(t.output()) as StatusReport;
    expect(code).toBe(1);
    expect(report.source).toEqual({ via: 'ssh', server: 'pi-2' });
    expect(readFileSync(join(t.dir, 'args'), 'utf8').split('\n').filter(Boolean)).toHaveLength(1);
  });

  it('does not call kubectl when the kubeconfig has no context for the cluster', async () => {
    const t = setup();
    const env = localKubectl(t.dir, 'answers');
    writeFileSync(join(t.dir, 'kubeconfig'), 'apiVersion: v1\nkind: Config\ncontexts:\n- name: work\n  context: {cluster: work, user: work}\n');
    await runStatusCommand({
      inventory: t.inventory,
      json: true,
      stateDir: t.dir,
      out: t.out,
      openTransport: t.openTransport,
      kubectlOn: t.kubectlOn,
      kubeconfig: join(t.dir, 'kubeconfig'),
      env,
    });
    expect((JSON.parse(t.output()) as StatusReport).source).toEqual({ via: 'ssh', server: 'pi-2' });
    expect(readFileSync(join(t.dir, 'args'), 'utf8')).toBe('');
  });
});
