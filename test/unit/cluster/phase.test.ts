import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { beforeEach, describe, expect, it } from 'vitest';
import { freshK3sFacts, readK3sVersionCache, type K3sFacts } from '../../../cluster/facts.js';
import { K3S_CONFIG_PATH, K3S_KUBECONFIG_PATH, SERVER_TOKEN_PATH, TOKEN_FILE_PATH } from '../../../core/k3s-paths.js';
import { runClusterPhase, type ClusterNodeInput, type ClusterPhaseOptions } from '../../../cluster/phase.js';
import type { NodeReplacement } from '../../../cluster/plan.js';
import { sha256Hex } from '../../../cluster/token.js';
import type { RunEvent } from '../../../core/events.js';
import type { Inventory } from '../../../core/inventory/schema.js';
import { RunLog } from '../../../core/log.js';
import type { NodeReport } from '../../../core/report.js';
import { deterministicRandom } from '../../fakes/deterministic-random.js';
import { FakeTransport, fail, ok } from '../../fakes/fake-transport.js';
import { haInventory, inventory } from './helpers.js';
import { sh } from '../../../core/remote/shell.js';
import { tempDir } from '../../fakes/temp-dir.js';

/**
 * A scripted K3s world on FakeTransports (test doubles): installers register nodes, the first server answers
 * `k3s kubectl get nodes`, journals say what the scenario wants. Node facts for a re-run are read back from
 * what the phase wrote, so "converged" is whatever the phase left behind.
 */
/** /etc/rancher/k3s/k3s.yaml as K3s writes it (dummy certificate data). */
const K3S_YAML = readFileSync(new URL('../../fixtures/k3s/k3s.yaml', import.meta.url), 'utf8');

interface SimNode {
  installed: boolean;
  version?: string;
  fingerprint?: string;
  running: boolean;
  /** Installer exits with this error instead of installing. */
  installFails?: string;
  /** The kubelet never reports Ready. */
  neverReady?: boolean;
  /** Re-imaged node: the cluster still holds its old password secret. */
  stalePassword?: boolean;
  /** With a stale password, K3s exits and the installer fails (the lab stand-in's behaviour) instead of retrying. */
  givesUp?: boolean;
  /** Its installer takes this long (real K3s: it waits for an agent that keeps being refused). */
  installMs?: number;
  /** The cluster refuses the node's token: K3s retries for ever, logging 401 Unauthorized, and never registers. */
  wrongToken?: boolean;
  /** After a restart its K3s exits (a bad setting): its Node object stays as the old K3s left it, Ready. */
  failsOnRestart?: boolean;
  /** The old K3s's last status, still listed Ready after it stopped (the API's grace period). */
  staleReady?: boolean;
  /** When its kubelet last posted its status, by the scripted clock (seconds). */
  heartbeat?: number;
  journal: string[];
  /** Its Node's labels, taints (`key[=value]:Effect`) and annotations: from config.yaml at registration, then the API. */
  labels?: Record<string, string>;
  taints?: string[];
  annotations?: Record<string, string>;
}

class SimCluster {
  readonly transports = new Map<string, FakeTransport>();
  readonly sim = new Map<string, SimNode>();
  readonly timeline: string[] = [];
  installDelayMs = 0;
  /** The nodes' clock, seconds since the epoch: ten seconds pass at each install or restart. */
  private clock = 1_764_000_000;
  private tick(): number {
    this.clock += 10;
    return this.clock;
  }

  constructor(readonly inv: Inventory) {
    const first = inv.nodes.find((n) => n.role === 'server')!;
    for (const node of inv.nodes) {
      const t = new FakeTransport(node.name);
      const sim: SimNode = { installed: false, running: false, journal: [] };
      this.sim.set(node.name, sim);
      this.transports.set(node.name, t);
      t.on(/sh -s - (server|agent)|k3s-install\.sh (server|agent)/, async (script) => {
        this.timeline.push(`${node.name}:install-start`);
        await new Promise((r) => setTimeout(r, sim.installMs ?? this.installDelayMs));
        this.timeline.push(`${node.name}:install-end`);
        if (sim.installFails) return fail(1, sim.installFails);
        sim.installed = true;
        sim.version = 'v1.36.4+k3s1';
        sim.fingerprint = `1000:${this.timeline.length}:42`;
        sim.running = true;
        sim.heartbeat = this.tick();
        // Registration reads node-label and node-taint (the inventory's, as config.yaml carries them).
        sim.labels ??= { ...node.labels };
        sim.taints ??= [...node.taints];
        sim.annotations ??= {};
        const role = /(?:sh -s -|k3s-install\.sh) (server|agent)/.exec(script)![1];
        t.files.set(`/etc/systemd/system/${role === 'server' ? 'k3s' : 'k3s-agent'}.service`, Buffer.from('[Unit]\n'));
        if (role === 'server') t.files.set(K3S_KUBECONFIG_PATH, Buffer.from(K3S_YAML));
        if (sim.stalePassword) sim.journal.push('level=error msg="Failed to retrieve agent config: Node password rejected, duplicate hostname"');
        if (sim.wrongToken) sim.journal.push('level=error msg="failed to get CA certs: https://127.0.0.1:6444/cacerts: 401 Unauthorized"');
        if (sim.stalePassword && sim.givesUp) {
          sim.running = false;
          return fail(1, 'Job for k3s-agent.service failed because the control process exited with error code.');
        }
        // The probe sections appended to the install script: the fingerprint, and the version when asked.
        const binary = script.includes("echo '@@revue-pi@@ k3s_binary'") ? `@@revue-pi@@ k3s_binary\n${sim.fingerprint}\n` : '';
        const version = script.includes("echo '@@revue-pi@@ k3s_version'") ? `@@revue-pi@@ k3s_version\nk3s version ${sim.version} (sim)\n` : '';
        return ok(`[INFO]  systemd: Starting k3s\n${binary}${version}`);
      });
      // What the phase asks right after an install: the binary's fingerprint and version.
      t.on("echo '@@revue-pi@@ k3s_binary'", () =>
        ok(
          sim.installed
            ? `@@revue-pi@@ k3s_binary\n${sim.fingerprint}\n@@revue-pi@@ k3s_version\nk3s version ${sim.version} (sim)\n`
            : '@@revue-pi@@ k3s_binary\n@@revue-pi@@ k3s_version\n',
        ),
      );
      // buildRestartCommand: the node's clock, then the restart.
      t.on(/^date \+%s && systemctl restart/, () => {
        this.timeline.push(`${node.name}:restart`);
        const at = this.tick();
        if (sim.failsOnRestart) {
          sim.running = false;
          sim.staleReady = true;
          sim.journal.push('level=fatal msg="Error: invalid kubelet-arg \\"hand made\\""');
        } else {
          sim.running = true;
          sim.heartbeat = this.tick();
        }
        return ok(`${at}\n`);
      });
      t.on(/^journalctl -u k3s(-agent)? -n \d+ --no-pager$/, () => ok(sim.journal.length ? sim.journal.join('\n') + '\n' : '-- No entries --\n'));
      if (node.name === first.name) {
        t.on('k3s kubectl get nodes -o json', () => ok(JSON.stringify({ items: this.nodeObjects() })));
        // node-metadata.ts's script: kubectl label / taint / annotate node NAME … --overwrite, one line each.
        t.on(/^set -e\nk3s kubectl (label|taint|annotate) node /, (script) => {
          for (const line of script.split('\n')) {
            const m = /^k3s kubectl (label|taint|annotate) node (\S+) (.*) --overwrite$/.exec(line);
            if (!m) continue;
            const target = this.sim.get(m[2]!)!;
            this.timeline.push(`${node.name}:${m[1]} ${m[2]}`);
            for (const word of m[3]!.split(' ')) {
              if (m[1] === 'taint') {
                const id = word.replace(/-$/, '').replace(/=[^:]*/, '');
                target.taints = (target.taints ?? []).filter((x) => x.replace(/=[^:]*/, '') !== id);
                if (!word.endsWith('-')) target.taints.push(word);
                continue;
              }
              const bag = m[1] === 'label' ? (target.labels ??= {}) : (target.annotations ??= {});
              if (word.endsWith('-') && !word.includes('=')) delete bag[word.slice(0, -1)];
              else bag[word.slice(0, word.indexOf('='))] = word.slice(word.indexOf('=') + 1);
            }
          }
          return ok();
        });
        t.on(/k3s kubectl delete node (\S+)/, (script) => {
          const name = /delete node (\S+)/.exec(script)![1]!;
          this.timeline.push(`${node.name}:forget ${name}`);
          const stale = this.sim.get(name);
          if (stale) {
            stale.stalePassword = false;
            stale.journal.push('level=info msg="Node password validated"');
          }
          return ok();
        });
      }
    }
  }

  private nodeObjects() {
    return this.inv.nodes.flatMap((n) => {
      const sim = this.sim.get(n.name)!;
      if ((!sim.installed && !sim.stalePassword) || sim.wrongToken) return [];
      const ready = (sim.installed && sim.running && !sim.neverReady && !sim.stalePassword) || sim.staleReady === true;
      const heartbeat = sim.heartbeat === undefined ? {} : { lastHeartbeatTime: new Date(sim.heartbeat * 1000).toISOString() };
      const taints = (sim.taints ?? []).map((x) => {
        const m = /^([^=:]+)(?:=([^:]*))?:(\w+)$/.exec(x)!;
        return { key: m[1], ...(m[2] ? { value: m[2] } : {}), effect: m[3] };
      });
      return [
        {
          metadata: { name: n.name, labels: sim.labels ?? {}, annotations: sim.annotations ?? {} },
          spec: { taints },
          status: {
            conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', ...heartbeat }],
            nodeInfo: { kubeletVersion: sim.version ?? 'v1.36.4+k3s1' },
          },
        },
      ];
    });
  }

  /**
   * What the k3s probe would read on the node now; the first server's also carries its kubeconfig and, while its
   * K3s runs, the node list (firstServerProbeSections) unless `firstServerExtras` is false.
   */
  facts(name: string, firstServerExtras = true): K3sFacts {
    const t = this.transports.get(name)!;
    const sim = this.sim.get(name)!;
    const units = (['k3s', 'k3s-agent'] as const).filter((u) => t.files.has(`/etc/systemd/system/${u}.service`));
    const token = t.file(TOKEN_FILE_PATH);
    const server = t.file(SERVER_TOKEN_PATH);
    return {
      installedVersion: sim.installed ? sim.version : undefined,
      binaryFingerprint: sim.installed ? sim.fingerprint : undefined,
      config: t.file(K3S_CONFIG_PATH),
      tokenFileSha256: token === undefined ? undefined : sha256Hex(token),
      serverTokenSha256: server === undefined ? undefined : sha256Hex(`${server.trim().replace(/^K10[0-9a-f]*::[^:]*:/, '')}\n`),
      unit: units[0],
      units: [...units],
      active: sim.running && units.length > 0,
      nodePassword: sim.installed,
      ...(firstServerExtras && name === this.inv.nodes.find((n) => n.role === 'server')?.name
        ? {
            ...(t.file(K3S_KUBECONFIG_PATH) !== undefined ? { kubeconfig: t.file(K3S_KUBECONFIG_PATH) } : {}),
            ...(sim.installed && sim.running ? { apiNodesJson: JSON.stringify({ items: this.nodeObjects() }) } : {}),
          }
        : {}),
    };
  }

  inputs(firstServerExtras = true): ClusterNodeInput[] {
    return this.inv.nodes.map((node) => ({
      node,
      transport: this.transports.get(node.name),
      k3s: this.facts(node.name, firstServerExtras),
      report: { name: node.name, host: node.host, role: node.role, status: 'unchanged', steps: [], warnings: [] } satisfies NodeReport,
    }));
  }

  allRuns(): string[] {
    return [...this.transports.values()].flatMap((t) => t.runs.map((r) => r.script));
  }

  unexpected(): string[] {
    return [...this.transports.values()].flatMap((t) => t.unexpected);
  }
}

let dir: string;
let events: RunEvent[];
beforeEach(() => {
  dir = tempDir('cluster-phase');
  events = [];
});

function options(inv: Inventory, nodes: ClusterNodeInput[], over: Partial<ClusterPhaseOptions> = {}): ClusterPhaseOptions {
  return {
    command: 'up',
    inventory: inv,
    stateDir: join(dir, 'state'),
    concurrency: 10,
    emit: (e) => events.push(e),
    log: new RunLog(join(dir, 'state'), 'test'),
    nodes,
    kubeconfigPath: join(dir, 'kube', 'config'),
    readyTimeoutMs: 2000,
    random: deterministicRandom('phase-test'),
    pollIntervalMs: 10,
    journalCheckIntervalMs: 20,
    env: {},
    ...over,
  };
}

const TOKEN = deterministicRandom('phase-test')(32).toString('hex');

function steps(nodes: ClusterNodeInput[]) {
  return Object.fromEntries(nodes.map((n) => [n.node.name, n.report.steps.filter((s) => s.phase === 'cluster').map((s) => `${s.step}:${s.status}`)]));
}

describe('runClusterPhase: up from scratch (1 server + 2 agents)', () => {
  it('installs the first server, then the agents; token and config are root-only files; kubeconfig merged', async () => {
    const inv = inventory();
    const sim = new SimCluster(inv);
    const nodes = sim.inputs();
    const result = await runClusterPhase(options(inv, nodes));

    expect(sim.unexpected()).toEqual([]);
    expect(nodes.map((n) => n.report.error)).toEqual([undefined, undefined, undefined]);
    const { readyNodesJson, ...rest } = result;
    expect(rest).toEqual({ firstServer: 'pi-1', token: 'generated', kubeconfigPath: join(dir, 'kube', 'config') });
    // The list that showed everyone Ready, for the workloads phase's labels.
    expect((JSON.parse(readyNodesJson!) as { items: { metadata: { name: string } }[] }).items.map((n) => n.metadata.name)).toEqual(['pi-1', 'pi-2', 'pi-3']);
    expect(sim.timeline.indexOf('pi-1:install-end')).toBeLessThan(sim.timeline.indexOf('pi-2:install-start'));
    expect(steps(nodes)).toEqual({ 'pi-1': ['k3s:changed', 'kubeconfig:changed'], 'pi-2': ['k3s:changed'], 'pi-3': ['k3s:changed'] });
    // An agent gets one round trip: token and config.yaml into place, then the installer, then the binary's fingerprint.
    for (const agent of ['pi-2', 'pi-3']) expect(sim.transports.get(agent)!.runs.map((r) => r.script)).toEqual([expect.stringContaining('sh -s - agent')]);
    // The installed binary is learnt in the install's own round trip; the pinned version is not asked of it.
    for (const t of sim.transports.values()) {
      expect(t.ran("echo '@@revue-pi@@ k3s_binary'")).toHaveLength(1);
      expect(t.ran('k3s --version')).toEqual([]);
    }
    expect(readK3sVersionCache(join(dir, 'state'))).toEqual(
      Object.fromEntries(['pi-1', 'pi-2', 'pi-3'].map((n) => [n, { fingerprint: sim.sim.get(n)!.fingerprint, version: 'v1.36.4+k3s1' }])),
    );
    expect(nodes[1]!.report.steps[0]!.changes).toEqual([
      'write the cluster token file (/etc/rancher/k3s/revue-pi-token)',
      'write /etc/rancher/k3s/config.yaml: node settings from the inventory',
      'install K3s agent v1.36.4+k3s1 and join https://192.168.1.101:6443',
    ]);

    for (const t of sim.transports.values()) {
      expect(t.writes.map((w) => [w.path, w.mode, w.sudo])).toEqual([
        [TOKEN_FILE_PATH, 0o600, true],
        [K3S_CONFIG_PATH, 0o600, true],
      ]);
      expect(t.file(TOKEN_FILE_PATH)).toBe(`${TOKEN}\n`);
      for (const run of t.runs) expect(run.opts?.sudo).toBe(true);
    }
    // The token exists in the state dir (0600) and nowhere in commands, events or the log.
    const tokenFile = join(dir, 'state', 'token');
    expect(readFileSync(tokenFile, 'utf8')).toBe(`${TOKEN}\n`);
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
    expect(sim.allRuns().join('\n')).not.toContain(TOKEN);
    expect(JSON.stringify(events)).not.toContain(TOKEN);
    const logs = readdirSync(join(dir, 'state', 'logs'))
      .map((f) => readFileSync(join(dir, 'state', 'logs', f), 'utf8'))
      .join('');
    expect(logs).toContain('[pi-2] install K3s agent');
    expect(logs).not.toContain(TOKEN);

    const kubeconfig = join(dir, 'kube', 'config');
    expect(statSync(kubeconfig).mode & 0o777).toBe(0o600);
    const doc = yaml.load(readFileSync(kubeconfig, 'utf8')) as { 'current-context': string; clusters: { name: string; cluster: { server: string } }[] };
    expect(doc['current-context']).toBe('lab');
    expect(doc.clusters).toEqual([{ name: 'lab', cluster: { 'certificate-authority-data': 'LS0tQ0EtLS0=', server: 'https://192.168.1.101:6443' } }]);
    expect(
      events
        .filter((e) => e.type === 'node-step' && e.step === 'ready' && e.status === 'done')
        .map((e) => (e as { node: string }).node)
        .sort(),
    ).toEqual(['pi-1', 'pi-2', 'pi-3']);
  });

  it('a re-run on the converged cluster installs, writes and restarts nothing and says unchanged', async () => {
    const inv = inventory();
    const sim = new SimCluster(inv);
    await runClusterPhase(options(inv, sim.inputs()));
    for (const t of sim.transports.values()) {
      t.runs.length = 0;
      t.writes.length = 0;
      t.reads.length = 0;
    }
    const again = sim.inputs();
    await runClusterPhase(options(inv, again));
    expect(sim.unexpected()).toEqual([]);
    expect(steps(again)).toEqual({ 'pi-1': ['k3s:unchanged', 'kubeconfig:unchanged'], 'pi-2': ['k3s:unchanged'], 'pi-3': ['k3s:unchanged'] });
    expect([...sim.transports.values()].flatMap((t) => t.writes)).toEqual([]);
    // The first server's probe already read the node list and the kubeconfig: nothing more is asked of any node.
    expect(sim.allRuns()).toEqual([]);
    expect([...sim.transports.values()].flatMap((t) => t.reads)).toEqual([]);
    // The versions learnt right after the installs let the next probe skip `k3s --version`.
    expect(readK3sVersionCache(join(dir, 'state'))).toEqual({
      'pi-1': { fingerprint: sim.sim.get('pi-1')!.fingerprint, version: 'v1.36.4+k3s1' },
      'pi-2': { fingerprint: sim.sim.get('pi-2')!.fingerprint, version: 'v1.36.4+k3s1' },
      'pi-3': { fingerprint: sim.sim.get('pi-3')!.fingerprint, version: 'v1.36.4+k3s1' },
    });
  });

  it('a re-run whose first-server probe lacks the node list and kubeconfig asks the API and reads the file', async () => {
    const inv = inventory();
    const sim = new SimCluster(inv);
    await runClusterPhase(options(inv, sim.inputs()));
    for (const t of sim.transports.values()) t.runs.length = 0;
    const again = sim.inputs(false);
    await runClusterPhase(options(inv, again));
    expect(steps(again)).toEqual({ 'pi-1': ['k3s:unchanged', 'kubeconfig:unchanged'], 'pi-2': ['k3s:unchanged'], 'pi-3': ['k3s:unchanged'] });
    expect(sim.allRuns()).toEqual(['k3s kubectl get nodes -o json']);
    expect(sim.transports.get('pi-1')!.reads).toContain(K3S_KUBECONFIG_PATH);
  });

  it('a re-run whose probed node list shows a node not Ready asks the API again until it is', async () => {
    const inv = inventory();
    const sim = new SimCluster(inv);
    await runClusterPhase(options(inv, sim.inputs()));
    for (const t of sim.transports.values()) t.runs.length = 0;
    const again = sim.inputs();
    const probed = JSON.parse(again[0]!.k3s.apiNodesJson!) as { items: { metadata: { name: string }; status: { conditions: { status: string }[] } }[] };
    probed.items.find((n) => n.metadata.name === 'pi-3')!.status.conditions[0]!.status = 'False';
    again[0]!.k3s.apiNodesJson = JSON.stringify(probed);
    await runClusterPhase(options(inv, again));
    expect(again.map((n) => n.report.error)).toEqual([undefined, undefined, undefined]);
    expect(sim.allRuns()).toEqual(['k3s kubectl get nodes -o json']);
  });

  it('adding a node later changes only that node', async () => {
    const small = inventory({}, [
      { name: 'pi-1', host: '192.168.1.101', role: 'server' },
      { name: 'pi-2', host: '192.168.1.102', role: 'agent' },
    ]);
    const grown = inventory({}, [...small.nodes, { name: 'pi-5', host: '192.168.1.105', role: 'agent' }]);
    const sim = new SimCluster(grown);
    await runClusterPhase(options(small, sim.inputs().slice(0, 2)));
    const again = sim.inputs();
    await runClusterPhase(options(grown, again));
    expect(steps(again)).toEqual({ 'pi-1': ['k3s:unchanged', 'kubeconfig:unchanged'], 'pi-2': ['k3s:unchanged'], 'pi-5': ['k3s:changed'] });
  });
});

describe('runClusterPhase: plan', () => {
  it('lists what up would do and touches nothing (no token saved, no command run)', async () => {
    const inv = inventory();
    const sim = new SimCluster(inv);
    const nodes = sim.inputs();
    await runClusterPhase(options(inv, nodes, { command: 'plan' }));
    expect(sim.allRuns()).toEqual([]);
    expect([...sim.transports.values()].flatMap((t) => t.writes)).toEqual([]);
    expect(existsSync(join(dir, 'state', 'token'))).toBe(false);
    expect(existsSync(join(dir, 'kube', 'config'))).toBe(false);
    expect(nodes[0]!.report.steps).toEqual([
      {
        phase: 'cluster',
        step: 'k3s',
        status: 'planned',
        changes: [
          'write the cluster token file (/etc/rancher/k3s/revue-pi-token)',
          'write /etc/rancher/k3s/config.yaml: node settings from the inventory',
          'install K3s server v1.36.4+k3s1 and start the cluster',
        ],
      },
    ]);
  });

  it('works offline (no transports) from fresh facts', async () => {
    const inv = inventory();
    const nodes: ClusterNodeInput[] = inv.nodes.map((node) => ({
      node,
      k3s: freshK3sFacts(),
      report: { name: node.name, host: node.host, role: node.role, status: 'unchanged', steps: [], warnings: [] },
    }));
    await runClusterPhase(options(inv, nodes, { command: 'plan' }));
    expect(nodes.map((n) => n.report.steps[0]!.status)).toEqual(['planned', 'planned', 'planned']);
    expect(nodes.map((n) => n.report.error)).toEqual([undefined, undefined, undefined]);
  });

  /** A converged cluster (1 server + 2 agents) whose pi-3 then has `lines` added to its config.yaml by hand. */
  async function withPi3ConfigEdited(lines: string) {
    const inv = inventory();
    const sim = new SimCluster(inv);
    await runClusterPhase(options(inv, sim.inputs()));
    const pi3 = sim.transports.get('pi-3')!;
    pi3.files.set(K3S_CONFIG_PATH, Buffer.from(pi3.file(K3S_CONFIG_PATH)! + lines));
    return { inv, sim, pi3 };
  }

  it('shows drift on the one node whose config.yaml was edited by hand; up fixes it with a restart there only', async () => {
    const { inv, sim, pi3 } = await withPi3ConfigEdited('kubelet-arg:\n  - max-pods=50\n');
    const planned = sim.inputs();
    await runClusterPhase(options(inv, planned, { command: 'plan' }));
    expect(planned.map((n) => n.report.steps[0]!.changes)).toEqual([
      [],
      [],
      ['write /etc/rancher/k3s/config.yaml: differs from the inventory in kubelet-arg', 'restart k3s-agent: config.yaml changed'],
    ]);
    sim.timeline.length = 0;
    await runClusterPhase(options(inv, sim.inputs()));
    expect(sim.timeline).toEqual(['pi-3:restart']);
    expect(pi3.ran('systemctl restart')).toEqual(['date +%s && systemctl restart --no-block k3s-agent']);
  });

  it('a label and a taint changed in the inventory: config.yaml rewritten, set through the API on the first server, no restart', async () => {
    const inv = inventory();
    const sim = new SimCluster(inv);
    await runClusterPhase(options(inv, sim.inputs()));
    const changed = inventory({}, [inv.nodes[0], { ...inv.nodes[1], labels: { 'revue/zone': 'b' }, taints: ['dedicated=db:NoExecute'] }, inv.nodes[2]]);
    const inputs = () => sim.inputs().map((n, i) => ({ ...n, node: changed.nodes[i]! }));
    const planned = inputs();
    await runClusterPhase(options(changed, planned, { command: 'plan' }));
    expect(planned[1]!.report.steps[0]!.changes).toEqual([
      'write /etc/rancher/k3s/config.yaml: differs from the inventory in node-label, node-taint (K3s reads them only when a node registers: set through the API, no restart)',
      'set label revue/zone=b through the API (no restart)',
      'remove label disk (set by revue-pi, no longer in the inventory)',
      'set taint dedicated=db:NoExecute through the API (no restart)',
      'remove taint dedicated:NoSchedule (set by revue-pi, no longer in the inventory)',
    ]);
    sim.timeline.length = 0;
    const nodes = inputs();
    await runClusterPhase(options(changed, nodes));
    expect(nodes.map((n) => n.report.error)).toEqual([undefined, undefined, undefined]);
    expect(sim.timeline).toEqual(['pi-1:label pi-2', 'pi-1:taint pi-2', 'pi-1:annotate pi-2']);
    expect(sim.sim.get('pi-2')).toMatchObject({
      labels: { 'revue/zone': 'b' },
      taints: ['dedicated=db:NoExecute'],
      annotations: { 'revue-pi.io/labels': 'revue/zone', 'revue-pi.io/taints': 'dedicated:NoExecute' },
    });
    // Converged: nothing more, not even a kubectl call beyond the probe's node list.
    sim.timeline.length = 0;
    const again = inputs();
    await runClusterPhase(options(changed, again));
    expect(again.map((n) => n.report.steps[0]!.status)).toEqual(['unchanged', 'unchanged', 'unchanged']);
    expect(sim.timeline).toEqual([]);
  });

  it('a restart whose new K3s exits is not taken for Ready by the Node object the old K3s left: up waits, then fails with the journal', async () => {
    const { inv, sim } = await withPi3ConfigEdited('kubelet-arg:\n  - hand made\n');
    sim.sim.get('pi-3')!.failsOnRestart = true;
    const nodes = sim.inputs();
    await runClusterPhase(options(inv, nodes, { readyTimeoutMs: 100 }));
    // The API still lists pi-3 Ready, with the heartbeat of the K3s that was stopped.
    const listed = JSON.parse((await sim.transports.get('pi-1')!.run(sh`k3s kubectl get nodes -o json`)).stdout) as {
      items: { metadata: { name: string }; status: { conditions: { status: string }[] } }[];
    };
    expect(listed.items.find((n) => n.metadata.name === 'pi-3')!.status.conditions[0]!.status).toBe('True');
    expect(nodes[2]!.report.error).toBe(
      'node pi-3 is not Ready after 0.1 s (registered but not Ready). Last lines of its k3s-agent journal:\nlevel=fatal msg="Error: invalid kubelet-arg \\"hand made\\""\n' +
        'Fix the cause and run up again; raise k3s.readyTimeoutSeconds for slow nodes.',
    );
    expect(nodes.slice(0, 2).map((n) => n.report.error)).toEqual([undefined, undefined]);
  });
});

describe('runClusterPhase: order', () => {
  it('HA: servers join one at a time, agents in parallel', async () => {
    const inv = inventory({}, [...haInventory().nodes, { name: 'a2', host: '192.168.1.22', role: 'agent' }]);
    const sim = new SimCluster(inv);
    sim.installDelayMs = 40;
    const nodes = sim.inputs();
    await runClusterPhase(options(inv, nodes, { concurrency: 5 }));
    expect(nodes.map((n) => n.report.error)).toEqual([undefined, undefined, undefined, undefined, undefined]);
    const t = sim.timeline;
    expect(t.slice(0, 6)).toEqual(['s1:install-start', 's1:install-end', 's2:install-start', 's2:install-end', 's3:install-start', 's3:install-end']);
    expect(t.slice(6, 8).sort()).toEqual(['a1:install-start', 'a2:install-start']);
    expect(sim.transports.get('s1')!.file(K3S_CONFIG_PATH)).toContain('cluster-init: true');
  });
});

describe('runClusterPhase: nodes still being prepared (ready promises)', () => {
  /** A ready promise per node that the test settles by hand, as the prepare phase would. */
  function gated(nodes: ClusterNodeInput[]) {
    const open = new Map<string, (k3s: K3sFacts | undefined) => void>();
    for (const n of nodes) n.ready = new Promise<K3sFacts | undefined>((r) => open.set(n.node.name, r));
    return (name: string, ok = true) => open.get(name)!(ok ? nodes.find((n) => n.node.name === name)!.k3s : undefined);
  }
  /** The phase started on three nodes, none of them ready yet. */
  function startGated() {
    const inv = inventory();
    const sim = new SimCluster(inv);
    const nodes = sim.inputs();
    const ready = gated(nodes);
    return { sim, nodes, ready, phase: runClusterPhase(options(inv, nodes)) };
  }
  const tick = () => new Promise((r) => setTimeout(r, 20));

  it('the first server installs as soon as it is ready, while an agent is still rebooting; that agent joins once ready', async () => {
    const { sim, nodes, ready, phase } = startGated();
    ready('pi-1');
    ready('pi-3');
    await tick();
    expect(sim.timeline).toEqual(['pi-1:install-start', 'pi-1:install-end', 'pi-3:install-start', 'pi-3:install-end']);
    expect(sim.transports.get('pi-2')!.runs).toEqual([]);
    ready('pi-2');
    await phase;
    expect(sim.timeline.slice(4)).toEqual(['pi-2:install-start', 'pi-2:install-end', 'pi-1:annotate pi-2'] /* the labels K3s registered it with, recorded */);
    expect(nodes.map((n) => n.report.error)).toEqual([undefined, undefined, undefined]);
    expect(steps(nodes)).toEqual({ 'pi-1': ['k3s:changed', 'kubeconfig:changed'], 'pi-2': ['k3s:changed'], 'pi-3': ['k3s:changed'] });
  });

  it('an agent whose preparation fails is left out: no command, no cluster step; the others finish and the phase is ok', async () => {
    const { sim, nodes, ready, phase } = startGated();
    ready('pi-1');
    ready('pi-3');
    // The prepare phase records the failure on the node before it settles the promise.
    nodes[1]!.report.error = 'node pi-2 did not come back within 300 s after the reboot.';
    ready('pi-2', false);
    await phase;
    expect(sim.transports.get('pi-2')!.runs).toEqual([]);
    expect(steps(nodes)).toEqual({ 'pi-1': ['k3s:changed', 'kubeconfig:changed'], 'pi-2': [], 'pi-3': ['k3s:changed'] });
    expect(nodes[1]!.report.error).toBe('node pi-2 did not come back within 300 s after the reboot.');
    expect(events.at(-1)).toEqual({ type: 'phase-end', phase: 'cluster', ok: true });
  });

  it('a first server whose preparation fails fails the others, naming it; nobody gets a command', async () => {
    const { sim, nodes, ready, phase } = startGated();
    nodes[0]!.report.error = 'node pi-1 rebooted but the memory cgroup is still inactive';
    ready('pi-1', false);
    ready('pi-2');
    ready('pi-3');
    await phase;
    expect(sim.allRuns()).toEqual([]);
    expect(nodes[2]!.report.error).toBe('first server pi-1 failed: node pi-1 rebooted but the memory cgroup is still inactive');
    expect(steps(nodes)['pi-1']).toEqual([]);
  });
});

describe('runClusterPhase: failures stay per node', () => {
  it('an installer failing on one agent: the others finish, that node is failed with the cause; a re-run heals it', async () => {
    const inv = inventory();
    const sim = new SimCluster(inv);
    sim.sim.get('pi-2')!.installFails = 'curl: (6) Could not resolve host: get.k3s.io';
    const nodes = sim.inputs();
    await runClusterPhase(options(inv, nodes));
    expect(nodes.map((n) => n.report.error)).toEqual([
      undefined,
      'Installing K3s (agent) failed on node pi-2 (exit 1): curl: (6) Could not resolve host: get.k3s.io Fix the cause on pi-2 and run up again: only the unfinished nodes are redone.',
      undefined,
    ]);
    expect(steps(nodes)['pi-3']).toEqual(['k3s:changed']);

    sim.sim.get('pi-2')!.installFails = undefined;
    sim.timeline.length = 0;
    const again = sim.inputs();
    await runClusterPhase(options(inv, again));
    expect(again.map((n) => n.report.error)).toEqual([undefined, undefined, undefined]);
    expect(sim.timeline).toEqual(['pi-2:install-start', 'pi-2:install-end', 'pi-1:annotate pi-2'] /* the labels K3s registered it with, recorded */);
  });

  it('the first server failing fails every other node, naming it; the agents get no command', async () => {
    const inv = inventory();
    const sim = new SimCluster(inv);
    sim.sim.get('pi-1')!.installFails = '[ERROR]  Download failed';
    const nodes = sim.inputs();
    await runClusterPhase(options(inv, nodes));
    expect(nodes[0]!.report.error).toMatch(/^Installing K3s \(server\) failed on node pi-1 \(exit 1\): \[ERROR\]  Download failed/);
    expect(nodes[1]!.report.error).toBe(`first server pi-1 failed: ${nodes[0]!.report.error}`);
    expect(nodes[2]!.report.steps[0]).toMatchObject({ phase: 'cluster', status: 'failed' });
    expect(sim.transports.get('pi-2')!.runs).toEqual([]);
    expect(events.at(-1)).toEqual({ type: 'phase-end', phase: 'cluster', ok: false });
  });

  it('a node already failed earlier in the run is left alone; a failed first server cascades', async () => {
    const inv = inventory();
    const sim = new SimCluster(inv);
    const nodes = sim.inputs();
    nodes[0]!.report.error = 'Probing node pi-1 failed';
    await runClusterPhase(options(inv, nodes));
    expect(nodes[0]!.report.steps).toEqual([]);
    expect(nodes[1]!.report.error).toBe('first server pi-1 failed: Probing node pi-1 failed');
    expect(sim.allRuns()).toEqual([]);
  });

  it('a node that never gets Ready: named, with the last lines of its journal, after the timeout', async () => {
    const inv = inventory();
    const sim = new SimCluster(inv);
    sim.sim.get('pi-3')!.neverReady = true;
    sim.sim.get('pi-3')!.journal.push('level=error msg="failed to get CA certs: connection refused"');
    const nodes = sim.inputs();
    await runClusterPhase(options(inv, nodes, { readyTimeoutMs: 200 }));
    expect(nodes[2]!.report.error).toBe(
      'node pi-3 is not Ready after 0.2 s (registered but not Ready). Last lines of its k3s-agent journal:\nlevel=error msg="failed to get CA certs: connection refused"\n' +
        'Fix the cause and run up again; raise k3s.readyTimeoutSeconds for slow nodes.',
    );
    expect(nodes.slice(0, 2).map((n) => n.report.error)).toEqual([undefined, undefined]);
    expect(sim.transports.get('pi-3')!.ran('journalctl -u k3s-agent -n 20 --no-pager')).toHaveLength(1);
  });

  it('a role change is refused with what to do', async () => {
    const inv = inventory();
    const sim = new SimCluster(inv);
    await runClusterPhase(options(inv, sim.inputs()));
    const swapped = inventory({}, [inv.nodes[0], { ...inv.nodes[1], role: 'server' }, inv.nodes[2]]);
    const nodes = new SimCluster(swapped).inputs().map((n, i) => ({ ...n, transport: sim.transports.get(n.node.name), k3s: sim.facts(inv.nodes[i]!.name) }));
    await runClusterPhase(options(swapped, nodes));
    expect(nodes[1]!.report.error).toMatch(
      /^node pi-2 already runs K3s as an agent \(k3s-agent.service\) but the inventory gives it role: server: run \/usr\/local\/bin\/k3s-agent-uninstall.sh/,
    );
    expect(nodes[2]!.report.error).toBeUndefined();
  });
});

describe("runClusterPhase: the first server's API", () => {
  it('never answering after the install: the first server fails with the kubectl error and its journal, the rest cascade', async () => {
    const inv = inventory();
    const sim = new SimCluster(inv);
    const pi1 = sim.transports.get('pi-1')!;
    pi1.on('k3s kubectl get nodes -o json', fail(1, 'The connection to the server 127.0.0.1:6443 was refused - did you specify the right host or port?'), {
      before: true,
    });
    sim.sim
      .get('pi-1')!
      .journal.push('level=fatal msg="starting kubernetes: preparing server: bootstrap data already found and encrypted with different token"');
    const nodes = sim.inputs();
    await runClusterPhase(options(inv, nodes, { readyTimeoutMs: 100 }));
    expect(nodes[0]!.report.error).toBe(
      'the Kubernetes API on pi-1 did not answer within 0.1 s (k3s kubectl: The connection to the server 127.0.0.1:6443 was refused - did you specify the right host or port?). ' +
        'Last lines of its k3s journal:\nlevel=fatal msg="starting kubernetes: preparing server: bootstrap data already found and encrypted with different token"',
    );
    expect(nodes[1]!.report.error).toBe(`first server pi-1 failed: ${nodes[0]!.report.error}`);
    expect(sim.transports.get('pi-2')!.runs).toEqual([]);
  });
});

describe('runClusterPhase: air-gapped', () => {
  it('uploads binary, images and installer over the transport, then installs without downloading', async () => {
    const files = { binary: join(dir, 'k3s-arm64'), images: join(dir, 'k3s-airgap-images-arm64.tar.zst'), installScript: join(dir, 'install.sh') };
    writeFileSync(files.binary, 'ELF-not-really');
    writeFileSync(files.images, 'images');
    writeFileSync(files.installScript, '#!/bin/sh\n');
    const inv = inventory({ k3s: { airgap: files } });
    const sim = new SimCluster(inv);
    const nodes = sim.inputs();
    await runClusterPhase(options(inv, nodes));
    expect(nodes.map((n) => n.report.error)).toEqual([undefined, undefined, undefined]);
    const pi2 = sim.transports.get('pi-2')!;
    // The large air-gap files first, each on its own; then token and config.yaml with the installer, in one round trip.
    expect(pi2.writes.map((w) => [w.path, w.mode, w.content.toString()])).toEqual([
      ['/usr/local/bin/k3s', 0o755, 'ELF-not-really'],
      ['/var/lib/rancher/k3s/agent/images/k3s-airgap-images-arm64.tar.zst', 0o644, 'images'],
      ['/usr/local/share/revue-pi/k3s-install.sh', 0o755, '#!/bin/sh\n'],
      [TOKEN_FILE_PATH, 0o600, `${TOKEN}\n`],
      [K3S_CONFIG_PATH, 0o600, pi2.file(K3S_CONFIG_PATH)],
    ]);
    expect(pi2.ran('INSTALL_K3S_SKIP_DOWNLOAD=true sh /usr/local/share/revue-pi/k3s-install.sh agent')).toHaveLength(1);
    expect(pi2.ran('curl')).toEqual([]);
  });

  it('a missing air-gap file fails that node naming the file and the inventory field', async () => {
    const inv = inventory({ k3s: { airgap: { binary: join(dir, 'nope'), images: join(dir, 'nope2'), installScript: join(dir, 'nope3') } } });
    const sim = new SimCluster(inv);
    const nodes = sim.inputs();
    await runClusterPhase(options(inv, nodes));
    expect(nodes[0]!.report.error).toMatch(new RegExp(`^The air-gap file ${join(dir, 'nope')} \\(k3s.airgap in the inventory\\) cannot be read: ENOENT`));
  });
});

describe('runClusterPhase: token', () => {
  it('lost state: recovered from the first server, saved 0600, nothing rewritten on the nodes', async () => {
    const inv = inventory();
    const sim = new SimCluster(inv);
    await runClusterPhase(options(inv, sim.inputs()));
    rmSync(join(dir, 'state', 'token'));
    for (const t of sim.transports.values()) t.writes.length = 0;
    const again = sim.inputs();
    const result = await runClusterPhase(options(inv, again, { random: deterministicRandom('a-different-seed') }));
    expect(result.token).toBe('recovered');
    expect(readFileSync(join(dir, 'state', 'token'), 'utf8')).toBe(`${TOKEN}\n`);
    expect(statSync(join(dir, 'state', 'token')).mode & 0o777).toBe(0o600);
    expect([...sim.transports.values()].flatMap((t) => t.writes)).toEqual([]);
    expect(steps(again)['pi-2']).toEqual(['k3s:unchanged']);
    expect(events.some((e) => e.type === 'info' && e.message.includes('recovered it from /etc/rancher/k3s/revue-pi-token on first server pi-1'))).toBe(true);
  });

  it("a state token that is not the cluster's: refused on the first server, every node failed, nothing written", async () => {
    const inv = inventory();
    const sim = new SimCluster(inv);
    await runClusterPhase(options(inv, sim.inputs()));
    sim.transports.get('pi-1')!.files.set(SERVER_TOKEN_PATH, Buffer.from(`K10${'ab'.repeat(32)}::server:${TOKEN}`));
    writeFileSync(join(dir, 'state', 'token'), 'f'.repeat(64) + '\n', { mode: 0o600 });
    for (const t of sim.transports.values()) t.writes.length = 0;
    const nodes = sim.inputs();
    await runClusterPhase(options(inv, nodes));
    expect(nodes[0]!.report.error).toMatch(
      new RegExp(`^the cluster token in ${join(dir, 'state', 'token')} is not the one K3s on first server pi-1 was started with`),
    );
    expect(nodes[1]!.report.error).toMatch(/^first server pi-1 failed: the cluster token in/);
    expect([...sim.transports.values()].flatMap((t) => t.writes)).toEqual([]);
  });

  it('a wrong token file on one agent is rewritten and that agent restarted', async () => {
    const inv = inventory();
    const sim = new SimCluster(inv);
    await runClusterPhase(options(inv, sim.inputs()));
    sim.transports.get('pi-2')!.files.set(TOKEN_FILE_PATH, Buffer.from('wrong\n'));
    sim.timeline.length = 0;
    const nodes = sim.inputs();
    await runClusterPhase(options(inv, nodes));
    expect(sim.transports.get('pi-2')!.file(TOKEN_FILE_PATH)).toBe(`${TOKEN}\n`);
    expect(sim.timeline).toEqual(['pi-2:restart']);
    expect(nodes[1]!.report.steps[0]!.changes).toEqual([
      'the cluster token file differs: rewrite it (/etc/rancher/k3s/revue-pi-token)',
      'restart k3s-agent: token changed',
    ]);
  });
});

describe('runClusterPhase: a re-imaged node rejoining under its old name', () => {
  const kept = (node: string) =>
    `node ${node} was re-imaged: K3s rejects its new node password ("Node password rejected") while the cluster still holds its old Node ${node} and secret kube-system/${node}.node-password.k3s on pi-1, ` +
    `and up deletes them only with your consent: nothing was deleted and ${node} was not joined. ` +
    `To delete them and join ${node}, run: revue-pi up -i 'my inventory.yaml' --replace-node ${node} (add --yes where no terminal can ask), or run up at a terminal and type the cluster name when it asks.`;

  it('with --replace-node pi-2: detects "Node password rejected", removes the stale node and secret on the first server, restarts, says with whose consent', async () => {
    const inv = inventory();
    const sim = new SimCluster(inv);
    sim.sim.get('pi-2')!.stalePassword = true;
    const nodes = sim.inputs();
    const asked: NodeReplacement[] = [];
    await runClusterPhase(options(inv, nodes, { replaceNodes: ['pi-2'], confirmNodeReplacement: async (r) => (asked.push(r), false) }));
    expect(sim.unexpected()).toEqual([]);
    expect(asked).toEqual([]);
    expect(nodes.map((n) => n.report.error)).toEqual([undefined, undefined, undefined]);
    expect(sim.transports.get('pi-1')!.ran('delete secret pi-2.node-password.k3s')).toHaveLength(1);
    expect(sim.timeline.filter((e) => e.includes('forget') || e.includes('restart'))).toEqual(['pi-1:forget pi-2', 'pi-2:restart']);
    expect(nodes[1]!.report.steps[0]!.changes.at(-1)).toBe(
      'node password rejected (node re-imaged): removed the stale node object pi-2 and secret kube-system/pi-2.node-password.k3s on pi-1, restarted k3s-agent, with your consent (--replace-node pi-2)',
    );
    expect(nodes[1]!.report.warnings).toHaveLength(1);
  });

  it('also when K3s gives up and the installer fails: asked on its own (test double answers yes), cleared, restarted, Ready', async () => {
    const inv = inventory();
    const sim = new SimCluster(inv);
    Object.assign(sim.sim.get('pi-3')!, { stalePassword: true, givesUp: true });
    const nodes = sim.inputs();
    const asked: NodeReplacement[] = [];
    await runClusterPhase(options(inv, nodes, { confirmNodeReplacement: async (r) => (asked.push(r), true) }));
    expect(sim.unexpected()).toEqual([]);
    expect(asked).toEqual([{ kind: 'node-password', node: 'pi-3', via: 'pi-1' }]);
    expect(nodes.map((n) => n.report.error)).toEqual([undefined, undefined, undefined]);
    expect(sim.timeline.filter((e) => e.includes('forget') || e.includes('restart'))).toEqual(['pi-1:forget pi-3', 'pi-3:restart']);
    expect(nodes[2]!.report.steps[0]!.changes).toEqual([
      'write the cluster token file (/etc/rancher/k3s/revue-pi-token)',
      'write /etc/rancher/k3s/config.yaml: node settings from the inventory',
      'install K3s agent v1.36.4+k3s1 and join https://192.168.1.101:6443',
      'node password rejected (node re-imaged): removed the stale node object pi-3 and secret kube-system/pi-3.node-password.k3s on pi-1, restarted k3s-agent, with your consent (the cluster name typed)',
    ]);
  });

  it.each<[string, boolean, Partial<ClusterPhaseOptions>]>([
    ['declined when asked (installer fails)', true, { confirmNodeReplacement: async () => false }],
    ['declined when asked (K3s keeps retrying)', false, { confirmNodeReplacement: async () => false }],
    ['no question possible (--yes, or no terminal) and no --replace-node (installer fails)', true, {}],
    ['no question possible and no --replace-node (K3s keeps retrying)', false, {}],
    ['--replace-node names another node', true, { replaceNodes: ['pi-2'] }],
  ])('%s: no delete is sent, nothing restarted, pi-3 fails naming the command; the other nodes finish', async (_, givesUp, over) => {
    const inv = inventory();
    const sim = new SimCluster(inv);
    Object.assign(sim.sim.get('pi-3')!, { stalePassword: true, givesUp });
    const nodes = sim.inputs();
    const asked: NodeReplacement[] = [];
    const o = options(inv, nodes, { ...over, inventoryPath: 'my inventory.yaml' });
    const answer = o.confirmNodeReplacement;
    if (answer) o.confirmNodeReplacement = (r) => (asked.push(r), answer(r));
    await runClusterPhase(o);
    if (answer) expect(asked).toEqual([{ kind: 'node-password', node: 'pi-3', via: 'pi-1' }]);
    expect(sim.transports.get('pi-1')!.ran('delete')).toEqual([]);
    expect(sim.timeline.filter((e) => e.includes('forget') || e.includes('restart'))).toEqual([]);
    expect(nodes.map((n) => n.report.error)).toEqual([undefined, undefined, kept('pi-3')]);
    expect(nodes[2]!.report.warnings).toEqual([]);
    expect(sim.unexpected()).toEqual([]);
  });
  it('refused while the installer still waits (real K3s retries a rejected password): pi-3 fails at once, without waiting for the installer', async () => {
    const inv = inventory();
    const sim = new SimCluster(inv);
    const pi3 = sim.sim.get('pi-3')!;
    Object.assign(pi3, { stalePassword: true, installMs: 3000 });
    pi3.journal.push('level=error msg="Failed to retrieve agent config: Node password rejected, duplicate hostname"');
    const nodes = sim.inputs();
    await runClusterPhase(options(inv, nodes, { confirmNodeReplacement: async () => false, inventoryPath: 'my inventory.yaml' }));
    expect(sim.timeline).toContain('pi-3:install-start');
    expect(sim.timeline).not.toContain('pi-3:install-end');
    expect(sim.transports.get('pi-1')!.ran('delete')).toEqual([]);
    expect(nodes.map((n) => n.report.error)).toEqual([undefined, undefined, kept('pi-3')]);
  });
});

describe('runClusterPhase: a join the cluster refuses', () => {
  it('an agent whose token the cluster refuses fails at the next journal check, with the journal, not at the Ready timeout', async () => {
    const inv = inventory();
    const sim = new SimCluster(inv);
    sim.sim.get('pi-3')!.wrongToken = true;
    const nodes = sim.inputs();
    const started = Date.now();
    await runClusterPhase(options(inv, nodes, { readyTimeoutMs: 60_000 }));
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(nodes.map((n) => n.report.error !== undefined)).toEqual([false, false, true]);
    expect(nodes[2]!.report.error).toBe(
      'K3s on node pi-3 cannot join the cluster: the cluster refused its token (401 Unauthorized). Last lines of its k3s-agent journal:\n' +
        'level=error msg="failed to get CA certs: https://127.0.0.1:6444/cacerts: 401 Unauthorized" ' +
        `Check /etc/rancher/k3s/revue-pi-token on pi-3 against the cluster's token, then run up again.`,
    );
  });
});

describe('runClusterPhase: versions and kubeconfig', () => {
  it('another installed version is reported, not upgraded', async () => {
    const inv = inventory();
    const sim = new SimCluster(inv);
    await runClusterPhase(options(inv, sim.inputs()));
    sim.sim.get('pi-3')!.version = 'v1.31.4+k3s1';
    sim.timeline.length = 0;
    const nodes = sim.inputs();
    await runClusterPhase(options(inv, nodes));
    expect(sim.timeline).toEqual([]);
    expect(nodes[2]!.report.warnings).toEqual([
      "node pi-3 runs K3s v1.31.4+k3s1, not v1.36.4+k3s1 as the inventory asks: left as it is (up does not change a node's K3s version). To upgrade the cluster, run: revue-pi upgrade -i inventory.yaml --to v1.36.4+k3s1",
    ]);
    expect(nodes[2]!.report.error).toBeUndefined();
  });

  it('returns the nodes behind the version, for up to offer revue-pi upgrade; none when all run it', async () => {
    const inv = inventory();
    const sim = new SimCluster(inv);
    expect((await runClusterPhase(options(inv, sim.inputs()))).behind).toBeUndefined();
    sim.sim.get('pi-1')!.version = 'v1.35.2+k3s1';
    sim.sim.get('pi-3')!.version = 'v1.35.2+k3s1';
    expect((await runClusterPhase(options(inv, sim.inputs()))).behind).toEqual({ version: 'v1.36.4+k3s1', nodes: ['pi-1', 'pi-3'] });
  });

  it('merges into an existing kubeconfig, keeping the other context; apiEndpoint wins over the host', async () => {
    const inv = inventory({ cluster: { name: 'lab', apiEndpoint: 'k8s.lab.example' } });
    const sim = new SimCluster(inv);
    const path = join(dir, 'kube', 'config');
    const other =
      'apiVersion: v1\nkind: Config\nclusters:\n- name: work\n  cluster: {server: "https://work:6443"}\nusers:\n- name: work\n  user: {token: t}\ncontexts:\n- name: work\n  context: {cluster: work, user: work}\ncurrent-context: work\n';
    mkdirSync(join(dir, 'kube'));
    writeFileSync(path, other, { mode: 0o644 });
    await runClusterPhase(options(inv, sim.inputs()));
    const doc = yaml.load(readFileSync(path, 'utf8')) as {
      'current-context': string;
      contexts: { name: string }[];
      clusters: { name: string; cluster: { server: string } }[];
    };
    expect(doc['current-context']).toBe('work');
    expect(doc.contexts.map((c) => c.name)).toEqual(['work', 'lab']);
    expect(doc.clusters.map((c) => c.cluster.server)).toEqual(['https://work:6443', 'https://k8s.lab.example:6443']);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('uses KUBECONFIG when no path is given', async () => {
    const inv = inventory();
    const sim = new SimCluster(inv);
    const path = join(dir, 'from-env', 'config');
    const result = await runClusterPhase(options(inv, sim.inputs(), { kubeconfigPath: undefined, env: { KUBECONFIG: `${path}:/elsewhere`, HOME: dir } }));
    expect(result.kubeconfigPath).toBe(path);
    expect(existsSync(path)).toBe(true);
  });
});
