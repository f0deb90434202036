import { describe, expect, it } from 'vitest';
import {
  AGENT_UNINSTALL,
  SERVER_UNINSTALL,
  buildResetUninstallScript,
  formatResetPlan,
  parseK3sInstallState,
  parseRemains,
  planReset,
  uninstallScriptsFor,
  type K3sInstallState,
  type ResetInput,
} from '../../../cluster/day-two/reset.js';

const AGENT: K3sInstallState = { units: ['k3s-agent'], scripts: [AGENT_UNINSTALL], binary: true, dataDir: true, etcDir: true, nodeDir: true };
const SERVER: K3sInstallState = { units: ['k3s'], scripts: [SERVER_UNINSTALL], binary: true, dataDir: true, etcDir: true, nodeDir: true };
const BOTH: K3sInstallState = { ...SERVER, units: ['k3s', 'k3s-agent'], scripts: [AGENT_UNINSTALL, SERVER_UNINSTALL] };
const NOTHING: K3sInstallState = { units: [], scripts: [], binary: false, dataDir: false, etcDir: false, nodeDir: false };

function input(extra: Partial<ResetInput> = {}): ResetInput {
  return {
    cluster: 'home',
    nodes: [
      { name: 's1', role: 'server', k3s: SERVER },
      { name: 'a1', role: 'agent', k3s: AGENT },
      { name: 's2', role: 'server', k3s: BOTH },
      { name: 'a2', role: 'agent', k3s: AGENT },
      { name: 's3', role: 'server', k3s: SERVER },
    ],
    firstServer: 's1',
    boot: false,
    kubeconfig: { path: '/home/me/.kube/config', entries: ['context', 'cluster', 'user'] },
    state: {
      dir: '/st/home',
      remove: ['token', 'workload-secrets.json'],
      keep: ['/st/home/backups (2 backups: revue-pi restore needs them; reset never deletes them)'],
    },
    ...extra,
  };
}

describe('what is installed on a node', () => {
  it('parses the probe section', () => {
    const text = `unit k3s\nunit k3s-agent\nscript ${AGENT_UNINSTALL}\nscript ${SERVER_UNINSTALL}\nbinary\ndata\netc\nnode\n`;
    expect(parseK3sInstallState(text)).toEqual(BOTH);
    expect(parseK3sInstallState('')).toEqual(NOTHING);
    expect(parseK3sInstallState('unit k3s-other\nscript /tmp/x.sh\n')).toEqual(NOTHING);
  });

  it('both units: both uninstall scripts run, the agent one first (each alone stops half-way)', () => {
    expect(uninstallScriptsFor(BOTH)).toEqual([AGENT_UNINSTALL, SERVER_UNINSTALL]);
    expect(uninstallScriptsFor({ ...BOTH, scripts: [SERVER_UNINSTALL, AGENT_UNINSTALL] })).toEqual([AGENT_UNINSTALL, SERVER_UNINSTALL]);
    expect(uninstallScriptsFor(SERVER)).toEqual([SERVER_UNINSTALL]);
    expect(uninstallScriptsFor(AGENT)).toEqual([AGENT_UNINSTALL]);
    expect(uninstallScriptsFor(NOTHING)).toEqual([]);
  });

  it('the uninstall script runs the scripts in the order given and then lists what remains', () => {
    const script = buildResetUninstallScript([AGENT_UNINSTALL, SERVER_UNINSTALL]).text;
    expect(script).toContain(`for s in ${AGENT_UNINSTALL} ${SERVER_UNINSTALL}; do`);
    expect(script).toContain('/var/lib/rancher/k3s /etc/rancher/k3s');
    expect(parseRemains('x: done\nremains: /usr/local/bin/k3s\nremains: /var/lib/rancher/k3s\n')).toEqual(['/usr/local/bin/k3s', '/var/lib/rancher/k3s']);
  });
});

describe('planReset', () => {
  it('orders agents together, then the extra servers one at a time, then the first server', () => {
    expect(planReset(input()).waves).toEqual([
      { what: 'agents', nodes: ['a1', 'a2'] },
      { what: 'server', nodes: ['s2'] },
      { what: 'server', nodes: ['s3'] },
      { what: 'first server', nodes: ['s1'] },
    ]);
  });

  it('prints the plan: per node what runs, what is removed and kept; on this computer the kubeconfig entries and state files (backups kept)', () => {
    const plan = planReset(
      input({
        nodes: [
          { name: 's1', role: 'server', k3s: SERVER },
          { name: 's2', role: 'server', k3s: BOTH },
          { name: 'a1', role: 'agent', k3s: NOTHING },
          { name: 'a2', role: 'agent', unreachable: 'connect ECONNREFUSED 10.0.0.22:22' },
        ],
      }),
    );
    expect(formatResetPlan(plan)).toBe(
      [
        'reset cluster home: uninstall K3s from every node and delete the cluster with all its data.',
        'Order: agents together (a1, a2), then server s2, then first server s1.',
        '  s1 (server, first server, units k3s):',
        '    runs: /usr/local/bin/k3s-uninstall.sh',
        '    removes: K3s units k3s.service: stopped, disabled, unit and .env files deleted',
        '    removes: /usr/local/bin/k3s with its kubectl/crictl/ctr links, k3s-killall.sh and the uninstall scripts',
        "    removes: /var/lib/rancher/k3s: the cluster's data (etcd or SQLite datastore, server token), images, and local-path volumes (storage/)",
        "    removes: /etc/rancher/k3s: /etc/rancher/k3s/config.yaml, revue-pi's token file /etc/rancher/k3s/revue-pi-token, k3s.yaml",
        '    removes: /var/lib/kubelet, /run/k3s, /run/flannel',
        '    keeps: /etc/rancher/node (the node password: the uninstall scripts keep it; a new cluster accepts it)',
        '    keeps: the boot config revue-pi set (cmdline.txt cgroup flags, config.txt kernel line): --boot reverts it',
        '    keeps: the hostname and its /etc/hosts line, revue-pi-wifi-promisc.service, *.revue-pi.bak copies of edited files',
        '  s2 (server, units k3s + k3s-agent):',
        '    runs: /usr/local/bin/k3s-agent-uninstall.sh, then /usr/local/bin/k3s-uninstall.sh',
        '    removes: K3s units k3s.service, k3s-agent.service: stopped, disabled, unit and .env files deleted',
        '    removes: /usr/local/bin/k3s with its kubectl/crictl/ctr links, k3s-killall.sh and the uninstall scripts',
        "    removes: /var/lib/rancher/k3s: the cluster's data (etcd or SQLite datastore, server token), images, and local-path volumes (storage/)",
        "    removes: /etc/rancher/k3s: /etc/rancher/k3s/config.yaml, revue-pi's token file /etc/rancher/k3s/revue-pi-token, k3s.yaml",
        '    removes: /var/lib/kubelet, /run/k3s, /run/flannel',
        '    keeps: /etc/rancher/node (the node password: the uninstall scripts keep it; a new cluster accepts it)',
        '    keeps: the boot config revue-pi set (cmdline.txt cgroup flags, config.txt kernel line): --boot reverts it',
        '    keeps: the hostname and its /etc/hosts line, revue-pi-wifi-promisc.service, *.revue-pi.bak copies of edited files',
        '  a1 (agent):',
        '    nothing to uninstall: K3s is not installed',
        '    keeps: /etc/rancher/node (the node password: the uninstall scripts keep it; a new cluster accepts it)',
        '    keeps: the boot config revue-pi set (cmdline.txt cgroup flags, config.txt kernel line): --boot reverts it',
        '    keeps: the hostname and its /etc/hosts line, revue-pi-wifi-promisc.service, *.revue-pi.bak copies of edited files',
        '  a2 (agent): UNREACHABLE — connect ECONNREFUSED 10.0.0.22:22; nothing is done on it',
        'On this computer:',
        '    removes: from /home/me/.kube/config: context "home", cluster "home", user "home"',
        '    removes: from /st/home: token, workload-secrets.json',
        '    keeps: /st/home/backups (2 backups: revue-pi restore needs them; reset never deletes them)',
        'Warning: s2 has both the k3s and the k3s-agent unit: each uninstall script alone stops half-way there ("Additional k3s services installed"), so both run, the agent\'s first.',
        'Warning: a2 could not be reached or probed over SSH (connect ECONNREFUSED 10.0.0.22:22): K3s on it is not removed and reset ends with exit 1. Once that is fixed, run reset again (or `sudo /usr/local/bin/k3s-agent-uninstall.sh` on it, and the other script if it is there).',
        'Warning: this computer keeps the kubeconfig entries and the state files until every node is reset: run reset again to finish.',
        '',
      ].join('\n'),
    );
  });

  it('with --boot, a node lists the boot changes and keeps only what stays', () => {
    const plan = planReset(
      input({
        boot: true,
        nodes: [
          {
            name: 's1',
            role: 'server',
            k3s: SERVER,
            boot: { changes: ['take x out of /boot/firmware/cmdline.txt'], keeps: ["/boot/firmware/config.txt: no line of revue-pi's in it"] },
          },
        ],
      }),
    );
    expect(plan.nodes[0]!.boot).toEqual(['take x out of /boot/firmware/cmdline.txt']);
    expect(plan.nodes[0]!.keeps).toContain("/boot/firmware/config.txt: no line of revue-pi's in it");
    expect(plan.nodes[0]!.keeps.join('\n')).not.toContain('--boot reverts it');
  });

  it('K3s files without an uninstall script: warned (reset fails on that node rather than leave it half-done)', () => {
    const plan = planReset(input({ nodes: [{ name: 's1', role: 'server', k3s: { ...SERVER, scripts: [] } }] }));
    expect(plan.nodes[0]!.scripts).toEqual([]);
    expect(plan.warnings[0]).toMatch(/^s1 has K3s files but no uninstall script/);
  });

  it('an empty kubeconfig and no state: says so', () => {
    const text = formatResetPlan(planReset(input({ kubeconfig: { path: '/k', entries: [] }, state: { dir: '/st', remove: [], keep: [] } })));
    expect(text).toContain('On this computer:\n    /k: nothing of cluster home in it\n');
  });
});
