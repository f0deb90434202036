import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AGENT_UNINSTALL, SERVER_UNINSTALL } from '../../../cluster/day-two/reset.js';
import { mergeKubeconfig } from '../../../cluster/kubeconfig.js';
import { RunLog } from '../../../core/log.js';
import type { InventoryNode } from '../../../core/inventory/schema.js';
import { runReset } from '../../../pipeline/reset.js';
import { resetConsentFor } from '../../../cli/commands/reset.js';
import { ConnectionError } from '../../../core/errors.js';
import { FakeTransport, fail, ok } from '../../fakes/fake-transport.js';
import { inventory } from '../cluster/helpers.js';
import { tempDir } from '../../fakes/temp-dir.js';

const INVENTORY = inventory({ cluster: { name: 'home' } }, [
  { name: 's1', host: '10.0.0.1', role: 'server' },
  { name: 's2', host: '10.0.0.2', role: 'server' },
  { name: 'a1', host: '10.0.0.11', role: 'agent' },
  { name: 'a2', host: '10.0.0.12', role: 'agent' },
]);
const probe = (lines: string) => `@@revue-pi@@ k3s_install\n${lines}\n\n`;
const INSTALLED: Record<string, string> = {
  s1: `unit k3s\nscript ${SERVER_UNINSTALL}\nbinary\ndata\netc\nnode`,
  s2: `unit k3s\nunit k3s-agent\nscript ${AGENT_UNINSTALL}\nscript ${SERVER_UNINSTALL}\nbinary\ndata\netc\nnode`,
  a1: `unit k3s-agent\nscript ${AGENT_UNINSTALL}\nbinary\ndata\netc\nnode`,
  a2: `unit k3s-agent\nscript ${AGENT_UNINSTALL}\nbinary\ndata\netc\nnode`,
};
const OURS = `apiVersion: v1\nkind: Config\nclusters:\n- name: home\n  cluster: {server: "https://10.0.0.1:6443"}\nusers:\n- name: home\n  user: {token: x}\ncontexts:\n- name: home\n  context: {cluster: home, user: home}\ncurrent-context: home\n`;
const OTHER = `apiVersion: v1\nkind: Config\nclusters:\n- name: work\n  cluster: {server: "https://w:6443"}\nusers:\n- name: work\n  user: {token: y}\ncontexts:\n- name: work\n  context: {cluster: work, user: work}\ncurrent-context: work\n`;

/** TEST DOUBLES for the four nodes: each answers the probe and the uninstall script; `down` nodes refuse SSH. */
function setup(opts: { down?: string[]; uninstall?: Record<string, ReturnType<typeof ok>> } = {}) {
  const order: string[] = [];
  const fakes = new Map<string, FakeTransport>();
  for (const n of INVENTORY.nodes) {
    const t = new FakeTransport(n.name);
    t.on('k3s_install', ok(probe(INSTALLED[n.name]!)));
    t.on('remains: ', (script) => {
      order.push(n.name);
      return opts.uninstall?.[n.name] ?? ok(`${script.includes(AGENT_UNINSTALL) ? `${AGENT_UNINSTALL}: done\n` : ''}clean\n`);
    });
    fakes.set(n.name, t);
  }
  const stateDir = tempDir('reset-run');
  const kubeconfigPath = join(stateDir, 'kubeconfig');
  writeFileSync(kubeconfigPath, mergeKubeconfig(OTHER, OURS, 'home'));
  for (const f of ['token', 'workload-secrets.json', 'k3s-versions.json']) writeFileSync(join(stateDir, f), '{}');
  mkdirSync(join(stateDir, 'backups', '20261206T100000Z'), { recursive: true });
  const open = async (node: InventoryNode) => {
    if (opts.down?.includes(node.name)) throw new ConnectionError(node.name, `connect ECONNREFUSED ${node.host}:22`);
    return fakes.get(node.name)!;
  };
  const run = (extra: Partial<Parameters<typeof runReset>[0]> = {}) =>
    runReset({
      inventory: INVENTORY,
      stateDir,
      kubeconfigPath,
      boot: false,
      dryRun: false,
      concurrency: 4,
      open,
      log: new RunLog(stateDir, 'reset'),
      progress: () => undefined,
      ...extra,
    });
  return { order, fakes, stateDir, kubeconfigPath, run };
}

describe('runReset', () => {
  it('resets agents, then the extra server, then the first; then removes the kubeconfig entries and the state files, keeping backups', async () => {
    const s = setup();
    const r = await s.run();
    expect(r).toMatchObject({
      ok: true,
      exitCode: 0,
      unreachable: [],
      local: { kubeconfig: 'removed', stateRemoved: ['token', 'workload-secrets.json', 'k3s-versions.json'] },
    });
    expect(s.order).toEqual(['a1', 'a2', 's2', 's1']);
    // The node with both units runs both scripts, the agent's first.
    expect(s.fakes.get('s2')!.ran('remains: ')[0]).toContain(`for s in ${AGENT_UNINSTALL} ${SERVER_UNINSTALL}; do`);
    expect(s.fakes.get('s1')!.ran('remains: ')[0]).toContain(`for s in ${SERVER_UNINSTALL}; do`);
    expect(readFileSync(s.kubeconfigPath, 'utf8')).toBe(mergeKubeconfig(undefined, OTHER, 'work'));
    expect(existsSync(join(s.stateDir, 'token'))).toBe(false);
    expect(existsSync(join(s.stateDir, 'backups', '20261206T100000Z'))).toBe(true);
  });

  it('an unreachable agent: the others are reset, exit 1 names it, the kubeconfig and state stay for the re-run', async () => {
    const s = setup({ down: ['a2'] });
    const r = await s.run();
    expect(r.ok).toBe(false);
    expect(r.exitCode).toBe(1);
    expect(r.unreachable).toEqual(['a2']);
    expect(s.order).toEqual(['a1', 's2', 's1']);
    expect(r.error).toMatch(/^not every node is reset: a2 \(unreachable\)\./);
    expect(r.local.kubeconfig).toBe('kept');
    expect(readFileSync(s.kubeconfigPath, 'utf8')).toContain('name: home');
    expect(existsSync(join(s.stateDir, 'token'))).toBe(true);
  });

  it('K3s left on a node after its scripts: that node fails with what remains', async () => {
    const s = setup({
      uninstall: {
        s2: fail(
          3,
          '',
          `${AGENT_UNINSTALL}: Additional k3s services installed, skipping uninstall of k3s\nremains: /usr/local/bin/k3s\nremains: /var/lib/rancher/k3s\n`,
        ),
      },
    });
    const r = await s.run();
    expect(r.exitCode).toBe(1);
    expect(r.nodes.find((n) => n.name === 's2')).toMatchObject({ outcome: 'failed', remains: ['/usr/local/bin/k3s', '/var/lib/rancher/k3s'] });
    expect(s.order).toEqual(['a1', 'a2', 's2', 's1']);
  });

  it('not confirmed (the name not typed) or a dry run: nothing runs on the nodes and nothing changes here', async () => {
    const s = setup();
    const declined = await s.run({ confirm: async () => false });
    expect(declined).toMatchObject({ ok: false, exitCode: 1, declined: true });
    expect(s.order).toEqual([]);
    const d = setup();
    const dry = await d.run({ dryRun: true });
    expect(dry).toMatchObject({ ok: true, exitCode: 0 });
    expect(dry.plan!.nodes.map((n) => n.scripts.length)).toEqual([1, 2, 1, 1]);
    expect(d.order).toEqual([]);
    for (const dir of [s.stateDir, d.stateDir]) expect(existsSync(join(dir, 'token'))).toBe(true);
  });
});

describe('resetConsentFor (decided before anything is contacted)', () => {
  it('the cluster name given to --yes consents; a wrong name, or --yes alone, is refused', () => {
    expect(resetConsentFor({ yes: 'home' }, 'home', false)).toEqual({ kind: 'given' });
    expect(resetConsentFor({ yes: 'homes' }, 'home', true)).toEqual({
      kind: 'refuse',
      message: '--yes names cluster "homes", but the inventory\'s cluster (cluster.name) is "home": refused, nothing was contacted.',
    });
    expect(resetConsentFor({ yes: true }, 'home', true)).toMatchObject({
      kind: 'refuse',
      message: expect.stringMatching(/^--yes alone does not reset a cluster: give it the cluster's name \(--yes home\)/),
    });
  });

  it('at a terminal it asks; without one (or with --json) it refuses; a dry run needs no consent', () => {
    expect(resetConsentFor({}, 'home', true)).toEqual({ kind: 'ask' });
    expect(resetConsentFor({}, 'home', false)).toMatchObject({
      kind: 'refuse',
      message: expect.stringContaining('its standard input is not a terminal: pass --yes home'),
    });
    expect(resetConsentFor({ json: true }, 'home', true)).toMatchObject({ kind: 'refuse' });
    expect(resetConsentFor({ dryRun: true }, 'home', false)).toEqual({ kind: 'dry-run' });
    expect(resetConsentFor({ dryRun: true, yes: 'other' }, 'home', false)).toMatchObject({ kind: 'refuse' });
  });
});
