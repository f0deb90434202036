import type { Inventory, InventoryNode } from '../core/inventory/schema.js';
import { configDrift, renderK3sConfig, serverUrl, type FirstServerStart } from './config.js';
import type { K3sFacts } from './facts.js';
import { wantedK3sVersion } from './install.js';
import { decideFirstServerStart, sqliteNotice } from './first-server.js';
import { otherClusterMessage, otherClusterOf } from './membership.js';
import { compareK3sVersions, parseK3sVersion } from './day-two/upgrade.js';
import { K3S_CONFIG_PATH, TOKEN_FILE_PATH, type K3sRole, type K3sUnit, unitFor } from '../core/k3s-paths.js';
import { serverSecretSha256, sha256Hex, tokenFileContent } from './token.js';

/** A rebuilt server's stale Node and etcd member, deleted on the live server `via` so it can join under its name. */
export interface StaleMemberRemoval {
  node: string;
  /** undefined: not read yet (the plan before the cluster phase) */
  member?: string;
  via: string;
}

/** A re-imaged node's old Node and node-password secret, deleted on the first server `via` so K3s accepts its new password. */
export interface StalePasswordRemoval {
  node: string;
  via: string;
}

/**
 * A deletion up does only with the operator's consent, asked for on its own (up --replace-node NAME, or the cluster
 * name typed right before): what the consent callback is shown.
 */
export type NodeReplacement = ({ kind: 'stale-member' } & StaleMemberRemoval) | ({ kind: 'node-password' } & StalePasswordRemoval);

/** How the operator consented to a NodeReplacement. */
export type ReplacementConsent = 'flag' | 'typed';

/** The inventory file as one shell word, for the commands up suggests. */
export function shellWord(file: string): string {
  return /^[\w@%+=:,./-]+$/.test(file) ? file : `'${file.replace(/'/g, `'\\''`)}'`;
}

/** What the report says about how the operator consented. */
export function consentWords(node: string, consent: ReplacementConsent): string {
  return `with your consent (${consent === 'flag' ? `--replace-node ${node}` : 'the cluster name typed'})`;
}

/** One thing `up` would do to K3s on a node. Pure data: plan prints it, the phase applies it. No secrets in here. */
export type ClusterChange =
  | ({ kind: 'forget-stale-member' } & StaleMemberRemoval)
  | { kind: 'write-token'; path: string; reason: string }
  | { kind: 'write-config'; path: string; content: string; reason: string; /** top-level keys that differ (empty for a new file) */ drift: string[] }
  | { kind: 'install'; role: K3sRole; version?: string; join?: string; reason: string }
  | { kind: 'restart'; unit: K3sUnit; reason: string };

export interface ClusterPlanContext {
  firstServer: InventoryNode;
  /** The cluster token; undefined only in `plan` for a cluster that does not exist yet. */
  token: string | undefined;
  /** How the first server takes part (decideFirstServerStart); default cluster-init. */
  firstServerStart?: FirstServerStart;
  /**
   * The etcd member a wiped first server left behind (read on the live server it joins), removed before it joins again;
   * null: that server lists none; undefined: not read (the plan shown before anything runs says "if it lists one").
   */
  staleMember?: { member: string } | null;
}

export interface ClusterCheck {
  severity: 'error' | 'warning';
  message: string;
}

/** Checks before planning: a role change is refused (it needs an uninstall), another version is only reported. */
export function checkClusterNode(
  facts: K3sFacts,
  inventory: Inventory,
  node: InventoryNode,
  { token, inventoryPath = 'inventory.yaml' }: { token?: string; inventoryPath?: string } = {},
): ClusterCheck[] {
  const results: ClusterCheck[] = [];
  const other = otherClusterOf(facts, inventory, node, token);
  if (other !== undefined && !(node.adopt === true && node.role === 'agent')) {
    results.push({ severity: 'error', message: otherClusterMessage(node, inventory, other) });
    return results;
  }
  const wantedUnit = unitFor(node.role);
  const otherUnit = unitFor(node.role === 'server' ? 'agent' : 'server');
  if (facts.units.includes(otherUnit)) {
    const uninstall = otherUnit === 'k3s' ? 'k3s-uninstall.sh' : 'k3s-agent-uninstall.sh';
    results.push({
      severity: 'error',
      message:
        `node ${node.name} already runs K3s as ${otherUnit === 'k3s' ? 'a server' : 'an agent'} (${otherUnit}.service) but the inventory gives it role: ${node.role}: ` +
        `run /usr/local/bin/${uninstall} on it first (this wipes its K3s data), or set its role back to ${otherUnit === 'k3s' ? 'server' : 'agent'}.`,
    });
  }
  const servers = inventory.nodes.filter((n) => n.role === 'server').length;
  if (node.role === 'server' && facts.datastore === 'sqlite' && servers === 1 && inventory.k3s.datastore !== 'etcd')
    results.push({ severity: 'warning', message: `node ${node.name}: ${sqliteNotice(node.name)}` });
  const wanted = inventory.k3s.airgap && !inventory.k3s.version ? undefined : wantedK3sVersion(inventory);
  if (facts.installedVersion && wanted && facts.installedVersion !== wanted && facts.units.includes(wantedUnit)) {
    results.push({
      severity: 'warning',
      message: `node ${node.name} runs K3s ${facts.installedVersion}, not ${wanted} as the inventory asks: left as it is (up does not change a node's K3s version). ${versionAdvice(facts.installedVersion, wanted, inventoryPath)}`,
    });
  }
  return results;
}

/**
 * The nodes running an older K3s than the inventory asks for, when every node can go to that version (none is newer):
 * what `up` offers to hand to `revue-pi upgrade` instead of changing versions itself. Undefined when there is nothing to
 * offer (all at the version, a node newer, a channel followed, an air-gapped install, a version that is not a release name).
 */
export function versionsBehind(
  inventory: Inventory,
  nodes: readonly { name: string; installedVersion?: string }[],
): { version: string; nodes: string[] } | undefined {
  if (inventory.k3s.airgap) return undefined;
  const wanted = wantedK3sVersion(inventory);
  const want = parseK3sVersion(wanted);
  if (!wanted || !want) return undefined;
  const behind: string[] = [];
  for (const node of nodes) {
    if (node.installedVersion === undefined) continue;
    const have = parseK3sVersion(node.installedVersion);
    if (!have) return undefined;
    const order = compareK3sVersions(have, want);
    if (order > 0) return undefined;
    if (order < 0) behind.push(node.name);
  }
  return behind.length > 0 ? { version: wanted, nodes: behind } : undefined;
}

/** What to run about a node on another version: the upgrade command, or (it is newer) that K3s does not go back. */
function versionAdvice(installed: string, wanted: string, inventoryPath: string): string {
  const [have, want] = [parseK3sVersion(installed), parseK3sVersion(wanted)];
  if (have && want && compareK3sVersions(have, want) > 0)
    return `K3s cannot be downgraded: set k3s.version in ${inventoryPath} to ${installed} (or newer, then run revue-pi upgrade -i ${inventoryPath}).`;
  return `To upgrade the cluster, run: revue-pi upgrade -i ${inventoryPath} --to ${wanted}`;
}

/** What `up` would change for K3s on this node; empty when it is converged (the idempotency test). */
export function planClusterNode(facts: K3sFacts, inventory: Inventory, node: InventoryNode, ctx: ClusterPlanContext): ClusterChange[] {
  const changes: ClusterChange[] = [];
  const isFirstServer = node.name === ctx.firstServer.name;
  const unit = unitFor(node.role);
  const start = isFirstServer ? (ctx.firstServerStart ?? { kind: 'cluster-init' }) : undefined;
  if (start?.kind === 'join' && start.via && facts.installedVersion === undefined && ctx.staleMember !== null)
    changes.push({ kind: 'forget-stale-member', node: node.name, ...(ctx.staleMember ? { member: ctx.staleMember.member } : {}), via: start.via });

  let tokenChanged = false;
  if (ctx.token === undefined ? facts.tokenFileSha256 === undefined : facts.tokenFileSha256 !== sha256Hex(tokenFileContent(ctx.token))) {
    tokenChanged = true;
    changes.push({
      kind: 'write-token',
      path: TOKEN_FILE_PATH,
      reason: facts.tokenFileSha256 === undefined ? 'write the cluster token file' : 'the cluster token file differs: rewrite it',
    });
  }

  const config = renderK3sConfig(inventory, node, { firstServer: ctx.firstServer, isFirstServer, ...(start ? { firstServerStart: start } : {}) });
  let configChanged = false;
  // Only labels or taints differ on a registered node: they go through the API, and K3s is not restarted for them.
  let metadataOnly = false;
  if (facts.config !== config) {
    configChanged = true;
    const drift = facts.config === undefined ? [] : configDrift(facts.config, config);
    const migrates = facts.datastore === 'sqlite' && drift.includes('cluster-init');
    metadataOnly = facts.nodePassword && drift.length > 0 && drift.every((k) => k === 'node-label' || k === 'node-taint');
    const reason =
      facts.config === undefined
        ? 'node settings from the inventory'
        : drift.length > 0
          ? `differs from the inventory in ${drift.join(', ')}${migrates ? ' (K3s moves its SQLite datastore into embedded etcd when it restarts)' : ''}${metadataOnly ? ' (K3s reads them only when a node registers: set through the API, no restart)' : ''}`
          : 'differs from the inventory in formatting or comments';
    changes.push({ kind: 'write-config', path: K3S_CONFIG_PATH, content: config, reason, drift });
  }

  const installed = facts.installedVersion !== undefined && facts.units.includes(unit);
  if (!installed) {
    changes.push({
      kind: 'install',
      role: node.role,
      version: inventory.k3s.airgap ? undefined : (wantedK3sVersion(inventory) ?? `channel ${inventory.k3s.channel}`),
      join: start?.kind === 'join' ? start.server : isFirstServer ? undefined : serverUrl(ctx.firstServer),
      reason: facts.installedVersion === undefined ? 'K3s is not installed' : `${unit}.service is missing`,
    });
  } else if ((tokenChanged || configChanged) && !(metadataOnly && !tokenChanged)) {
    changes.push({
      kind: 'restart',
      unit,
      reason: tokenChanged && configChanged ? 'config.yaml and token changed' : tokenChanged ? 'token changed' : 'config.yaml changed',
    });
  } else if (!facts.active || facts.unit !== unit) {
    changes.push({ kind: 'restart', unit, reason: `${unit} is not running` });
  }
  return changes;
}

export function describeClusterChange(change: ClusterChange): string {
  switch (change.kind) {
    case 'forget-stale-member':
      return `${describeStaleMember(change, 'remove')} — asked for on its own right before, done only if you type the cluster name then (or pass --replace-node ${change.node})`;
    case 'write-token':
      return `${change.reason} (${change.path})`;
    case 'write-config':
      return `write ${change.path}: ${change.reason}`;
    case 'install': {
      const what = `install K3s ${change.role}${change.version ? ` ${change.version}` : ' (air-gapped)'}`;
      return change.join ? `${what} and join ${change.join}` : `${what} and start the cluster`;
    }
    case 'restart':
      return `restart ${change.unit}: ${change.reason}`;
  }
}

function describeStaleMember(change: StaleMemberRemoval, verb: 'remove' | 'removed'): string {
  return change.member
    ? `${verb} Node ${change.node} and its stale etcd member ${change.member} on ${change.via} (left when ${change.node} was wiped; K3s refuses a new member under the same name)`
    : `${verb} Node ${change.node} and its stale etcd member on ${change.via}, if it still lists one (left when ${change.node} was wiped; K3s refuses a new member under the same name)`;
}

/** The report's line once it is done: how the operator consented. */
export function describeStaleMemberRemoved(change: StaleMemberRemoval, consent: ReplacementConsent): string {
  return `${describeStaleMember(change, 'removed')}, ${consentWords(change.node, consent)}`;
}

/** Why the node failed when no one consented: nothing deleted, not joined, and the exact command that consents. */
export function staleMemberKeptMessage(change: StaleMemberRemoval, inventoryFile = 'inventory.yaml'): string {
  const member = change.member ? `etcd member ${change.member}` : 'etcd member';
  const file = shellWord(inventoryFile);
  return (
    `server ${change.node} was wiped, and the cluster still holds its old Node and ${member} on ${change.via}; K3s refuses it a new member under the same name ("duplicate node name found") until they are deleted, ` +
    `and up deletes them only with your consent: nothing was deleted and ${change.node} was not joined. ` +
    `To delete them and join ${change.node}, run: revue-pi up -i ${file} --replace-node ${change.node} (add --yes where no terminal can ask), or run up at a terminal and type the cluster name when it asks.`
  );
}

/** The report's line once a re-imaged node's stale Node and password secret are deleted (and its unit restarted). */
export function describeStalePasswordRemoved(change: StalePasswordRemoval, consent: ReplacementConsent, restarted?: string): string {
  return `node password rejected (node re-imaged): removed the stale node object ${change.node} and secret kube-system/${change.node}.node-password.k3s on ${change.via}${restarted ? `, restarted ${restarted}` : ''}, ${consentWords(change.node, consent)}`;
}

/** Why a re-imaged node failed when no one consented: nothing deleted, not joined, and the exact command that consents. */
export function stalePasswordKeptMessage(change: StalePasswordRemoval, inventoryFile = 'inventory.yaml'): string {
  return (
    `node ${change.node} was re-imaged: K3s rejects its new node password ("Node password rejected") while the cluster still holds its old Node ${change.node} and secret kube-system/${change.node}.node-password.k3s on ${change.via}, ` +
    `and up deletes them only with your consent: nothing was deleted and ${change.node} was not joined. ` +
    `To delete them and join ${change.node}, run: revue-pi up -i ${shellWord(inventoryFile)} --replace-node ${change.node} (add --yes where no terminal can ask), or run up at a terminal and type the cluster name when it asks.`
  );
}

/** Whether the token revue-pi holds is the one K3s on the first server was started with. */
export function tokenMatchesServer(facts: K3sFacts, token: string): boolean {
  if (facts.serverTokenSha256 !== undefined) return facts.serverTokenSha256 === serverSecretSha256(token);
  if (facts.tokenFileSha256 !== undefined) return facts.tokenFileSha256 === sha256Hex(tokenFileContent(token));
  return true;
}

/**
 * Every node's planned changes at once (for a confirmation prompt before `up` changes anything). `token`
 * is the state directory's (readStateToken); without one, token files are planned only where none exist.
 */
export function planCluster(inventory: Inventory, nodes: { node: InventoryNode; k3s: K3sFacts }[], token: string | undefined): Map<string, ClusterChange[]> {
  const firstServer = inventory.nodes.find((n) => n.role === 'server');
  const plans = new Map<string, ClusterChange[]>();
  if (!firstServer) return plans;
  const first = nodes.find((n) => n.node.name === firstServer.name);
  const others = inventory.nodes
    .filter((n) => n.role === 'server' && n !== firstServer)
    .map((node) => ({ node, k3s: nodes.find((x) => x.node.name === node.name)?.k3s }));
  const decided = first ? decideFirstServerStart(inventory, first, others) : undefined;
  const firstServerStart = decided && decided.kind !== 'refused' ? decided : undefined;
  for (const { node, k3s } of nodes)
    plans.set(node.name, planClusterNode(k3s, inventory, node, { firstServer, token, ...(firstServerStart ? { firstServerStart } : {}) }));
  return plans;
}
