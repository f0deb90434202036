import { sh, type ShellScript } from '../../core/remote/shell.js';
import type { ProbeSection } from '../../core/remote/probe.js';
import { K3S_BINARY_PATH, K3S_CONFIG_PATH, TOKEN_FILE_PATH } from '../../core/k3s-paths.js';

/**
 * `revue-pi reset`, the deciding half for K3s: what is installed on each node (one probe section), the order the nodes
 * are reset in (agents together, then the extra servers one at a time, then the first server), which uninstall
 * scripts run on each and in what order, and what is removed and kept — on the nodes and on this computer. Pure;
 * pipeline/reset.ts does the work. Contract: test/lab/k3s-standin/README.md ("Uninstall and killall").
 */

export const K3S_DATA_DIR = '/var/lib/rancher/k3s';
export const K3S_ETC_DIR = '/etc/rancher/k3s';
export const NODE_DIR = '/etc/rancher/node';
const UNIT_DIR = '/etc/systemd/system';
export const AGENT_UNINSTALL = '/usr/local/bin/k3s-agent-uninstall.sh';
export const SERVER_UNINSTALL = '/usr/local/bin/k3s-uninstall.sh';

/** What the installer left on a node. */
export interface K3sInstallState {
  /** Unit files present: `k3s` (server), `k3s-agent` (agent). */
  units: ('k3s' | 'k3s-agent')[];
  /** Uninstall scripts present (full paths). */
  scripts: string[];
  binary: boolean;
  dataDir: boolean;
  etcDir: boolean;
  nodeDir: boolean;
}

/** One section listing what is there, a word per line (no file contents: nothing secret travels). */
export const K3S_STATE_SECTION: ProbeSection = {
  name: 'k3s_install',
  script: sh`for u in k3s k3s-agent; do [ -e ${UNIT_DIR}/$u.service ] && echo "unit $u"; done
for s in ${[AGENT_UNINSTALL, SERVER_UNINSTALL]}; do [ -e "$s" ] && echo "script $s"; done
[ -e ${K3S_BINARY_PATH} ] && echo binary
[ -d ${K3S_DATA_DIR} ] && echo data
[ -d ${K3S_ETC_DIR} ] && echo etc
[ -d ${NODE_DIR} ] && echo node
true`,
};

export function parseK3sInstallState(text: string): K3sInstallState {
  const state: K3sInstallState = { units: [], scripts: [], binary: false, dataDir: false, etcDir: false, nodeDir: false };
  for (const line of text.split('\n').map((l) => l.trim())) {
    const [word, value] = line.split(' ', 2);
    if (word === 'unit' && (value === 'k3s' || value === 'k3s-agent')) state.units.push(value);
    else if (word === 'script' && (value === AGENT_UNINSTALL || value === SERVER_UNINSTALL)) state.scripts.push(value);
    else if (line === 'binary') state.binary = true;
    else if (line === 'data') state.dataDir = true;
    else if (line === 'etc') state.etcDir = true;
    else if (line === 'node') state.nodeDir = true;
  }
  return state;
}

export function k3sInstalled(s: K3sInstallState): boolean {
  return s.units.length > 0 || s.scripts.length > 0 || s.binary || s.dataDir || s.etcDir;
}

/**
 * The uninstall scripts to run, in order. Each script stops every k3s* unit (killall) and removes its own unit, but
 * removes the binary and the data only when no other k3s*.service is left — otherwise it prints "Additional k3s
 * services installed, skipping uninstall of k3s" and exits 0 (K3s install.sh `create_uninstall`). So on a node with
 * both units both scripts must run: the agent's first, then the server's, which then finds no other unit and finishes.
 */
export function uninstallScriptsFor(s: K3sInstallState): string[] {
  return [AGENT_UNINSTALL, SERVER_UNINSTALL].filter((script) => s.scripts.includes(script));
}

// ---- the plan -------------------------------------------------------------------------------------------

export interface ResetNodeInput {
  name: string;
  role: 'server' | 'agent';
  /** undefined: SSH to it failed (`unreachable` says why). */
  k3s?: K3sInstallState;
  unreachable?: string;
  /** What --boot changes on it (one line each), and what of the boot config is left (decided in provision/). */
  boot?: { changes: string[]; keeps: string[] };
}

export interface ResetInput {
  cluster: string;
  /** In inventory order. */
  nodes: ResetNodeInput[];
  /** The inventory's first server (the one up starts first and the others join). */
  firstServer?: string;
  boot: boolean;
  /** The kubeconfig up merged into, and the entries named after the cluster found in it. */
  kubeconfig: { path: string; entries: string[] };
  state: { dir: string; remove: string[]; keep: string[] };
}

export type ResetNodeStatus = 'reset' | 'nothing-installed' | 'unreachable';

export interface ResetNodePlan {
  name: string;
  role: 'server' | 'agent';
  first: boolean;
  status: ResetNodeStatus;
  unreachable?: string;
  units: string[];
  /** Uninstall scripts, in the order they run. */
  scripts: string[];
  removes: string[];
  keeps: string[];
  boot: string[];
}

export interface ResetPlan {
  cluster: string;
  /** Each wave after the one before; the nodes of a wave at the same time. */
  waves: { what: 'agents' | 'server' | 'first server'; nodes: string[] }[];
  nodes: ResetNodePlan[];
  local: { kubeconfig: { path: string; removes: string[] }; state: { dir: string; removes: string[]; keeps: string[] } };
  warnings: string[];
}

export function planReset(input: ResetInput): ResetPlan {
  const warnings: string[] = [];
  const nodes = input.nodes.map((n) => planNode(n, n.name === input.firstServer, input.boot));
  const agents = input.nodes.filter((n) => n.role === 'agent').map((n) => n.name);
  const servers = input.nodes.filter((n) => n.role === 'server' && n.name !== input.firstServer).map((n) => n.name);
  const waves: ResetPlan['waves'] = [];
  if (agents.length > 0) waves.push({ what: 'agents', nodes: agents });
  for (const s of servers) waves.push({ what: 'server', nodes: [s] });
  if (input.firstServer) waves.push({ what: 'first server', nodes: [input.firstServer] });

  for (const n of nodes) {
    if (n.status === 'unreachable')
      warnings.push(
        `${n.name} could not be reached or probed over SSH (${n.unreachable}): K3s on it is not removed and reset ends with exit 1. Once that is fixed, run reset again (or \`sudo ${n.role === 'server' ? SERVER_UNINSTALL : AGENT_UNINSTALL}\` on it, and the other script if it is there).`,
      );
    if (n.units.length === 2)
      warnings.push(
        `${n.name} has both the k3s and the k3s-agent unit: each uninstall script alone stops half-way there ("Additional k3s services installed"), so both run, the agent's first.`,
      );
    if (n.status === 'reset' && n.scripts.length === 0)
      warnings.push(
        `${n.name} has K3s files but no uninstall script (${AGENT_UNINSTALL}, ${SERVER_UNINSTALL}): reset cannot remove them and fails on it. Remove them by hand (see the K3s uninstall docs).`,
      );
  }
  if (nodes.some((n) => n.status === 'unreachable'))
    warnings.push('this computer keeps the kubeconfig entries and the state files until every node is reset: run reset again to finish.');
  return {
    cluster: input.cluster,
    waves,
    nodes,
    local: {
      kubeconfig: {
        path: input.kubeconfig.path,
        removes: input.kubeconfig.entries.map((e) => `${e} "${input.cluster}"`),
      },
      state: { dir: input.state.dir, removes: input.state.remove, keeps: input.state.keep },
    },
    warnings,
  };
}

function planNode(n: ResetNodeInput, first: boolean, boot: boolean): ResetNodePlan {
  const base = { name: n.name, role: n.role, first };
  const bootKeeps = boot ? (n.boot?.keeps ?? []) : ['the boot config revue-pi set (cmdline.txt cgroup flags, config.txt kernel line): --boot reverts it'];
  const alwaysKept = [
    `${NODE_DIR} (the node password: the uninstall scripts keep it; a new cluster accepts it)`,
    ...bootKeeps,
    'the hostname and its /etc/hosts line, revue-pi-wifi-promisc.service, *.revue-pi.bak copies of edited files',
  ];
  const bootChanges = boot ? (n.boot?.changes ?? []) : [];
  if (!n.k3s) return { ...base, status: 'unreachable', unreachable: n.unreachable ?? 'unreachable', units: [], scripts: [], removes: [], keeps: [], boot: [] };
  const k = n.k3s;
  if (!k3sInstalled(k)) {
    return { ...base, status: 'nothing-installed', units: [], scripts: [], removes: [], keeps: alwaysKept, boot: bootChanges };
  }
  const removes: string[] = [];
  if (k.units.length > 0) removes.push(`K3s units ${k.units.map((u) => `${u}.service`).join(', ')}: stopped, disabled, unit and .env files deleted`);
  removes.push(`${K3S_BINARY_PATH} with its kubectl/crictl/ctr links, k3s-killall.sh and the uninstall scripts`);
  removes.push(
    `${K3S_DATA_DIR}: the cluster's data${n.role === 'server' ? ' (etcd or SQLite datastore, server token)' : ''}, images, and local-path volumes (storage/)`,
  );
  removes.push(`${K3S_ETC_DIR}: ${K3S_CONFIG_PATH}, revue-pi's token file ${TOKEN_FILE_PATH}${n.role === 'server' ? ', k3s.yaml' : ''}`);
  removes.push('/var/lib/kubelet, /run/k3s, /run/flannel');
  const keeps = k.nodeDir ? alwaysKept : alwaysKept.filter((line) => !line.startsWith(NODE_DIR));
  return { ...base, status: 'reset', units: k.units, scripts: uninstallScriptsFor(k), removes, keeps, boot: bootChanges };
}

// ---- commands -------------------------------------------------------------------------------------------

/**
 * Runs the given uninstall scripts in order (each one's output kept; a failing one stops), then lists what is still
 * there: a unit, the binary, the data or config folder, a script. Exit 0 only when nothing is; else 3, with a line
 * `remains: PATH` for each.
 */
export function buildResetUninstallScript(scripts: string[]): ShellScript {
  return sh`for s in ${scripts}; do
  [ -x "$s" ] || { echo "revue-pi: $s is missing" >&2; continue; }
  out=$("$s" 2>&1) || { printf '%s\\n' "$out" | tail -n 15 >&2; echo "revue-pi: $s failed" >&2; exit 1; }
  case "$out" in *"Additional k3s services installed"*) echo "$s: Additional k3s services installed, skipping uninstall of k3s";; *) echo "$s: done";; esac
done
left=0
for p in ${UNIT_DIR}/k3s.service ${UNIT_DIR}/k3s-agent.service ${K3S_BINARY_PATH} ${K3S_DATA_DIR} ${K3S_ETC_DIR} ${AGENT_UNINSTALL} ${SERVER_UNINSTALL} /usr/local/bin/k3s-killall.sh; do
  [ -e "$p" ] && { echo "remains: $p"; left=1; }
done
[ "$left" = 0 ] || exit 3
echo clean
`;
}

/** The `remains:` lines of that script's output. */
export function parseRemains(stdout: string): string[] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('remains: '))
    .map((l) => l.slice('remains: '.length).trim());
}

// ---- the plan as text -----------------------------------------------------------------------------------

export function formatResetPlan(plan: ResetPlan): string {
  const lines: string[] = [];
  const order = plan.waves.map((w) => (w.what === 'agents' ? `agents together (${w.nodes.join(', ')})` : `${w.what} ${w.nodes[0]}`));
  lines.push(`reset cluster ${plan.cluster}: uninstall K3s from every node and delete the cluster with all its data.`);
  lines.push(`Order: ${order.join(', then ') || 'no nodes'}.`);
  for (const n of plan.nodes) {
    const facts = [n.role + (n.first ? ', first server' : ''), n.units.length > 0 ? `units ${n.units.join(' + ')}` : undefined];
    if (n.status === 'unreachable') {
      lines.push(`  ${n.name} (${facts.filter(Boolean).join(', ')}): UNREACHABLE — ${n.unreachable}; nothing is done on it`);
      continue;
    }
    lines.push(`  ${n.name} (${facts.filter(Boolean).join(', ')}):`);
    if (n.status === 'nothing-installed') lines.push('    nothing to uninstall: K3s is not installed');
    else {
      lines.push(`    runs: ${n.scripts.join(', then ') || '(no uninstall script found)'}`);
      for (const r of n.removes) lines.push(`    removes: ${r}`);
    }
    for (const b of n.boot) lines.push(`    boot: ${b}`);
    for (const k of n.keeps) lines.push(`    keeps: ${k}`);
  }
  lines.push('On this computer:');
  const kc = plan.local.kubeconfig;
  lines.push(kc.removes.length > 0 ? `    removes: from ${kc.path}: ${kc.removes.join(', ')}` : `    ${kc.path}: nothing of cluster ${plan.cluster} in it`);
  const st = plan.local.state;
  if (st.removes.length > 0) lines.push(`    removes: from ${st.dir}: ${st.removes.join(', ')}`);
  for (const k of st.keeps) lines.push(`    keeps: ${k}`);
  for (const w of plan.warnings) lines.push(`Warning: ${w}`);
  return lines.join('\n') + '\n';
}
