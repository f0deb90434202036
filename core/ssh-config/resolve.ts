import { SSH_DEFAULTS, type Inventory, type InventoryNode, type JumpSettings, type NodeSshSettings } from '../inventory/schema.js';
import type { LoadedSshConfig } from './load.js';
import { lookupHost, type Found, type HostConfig, type LookupContext } from './lookup.js';

/**
 * Each node's SSH settings from the inventory and the ssh config, as OpenSSH would combine a command line with its
 * config file: what the inventory sets wins (a node's own ssh: section, then the inventory-wide one), then the first
 * value the config gives for the node's host, then revue-pi's defaults. Every setting records where it came from, for
 * `plan --verbose`. Pure: the config is read by load.ts.
 */

export interface SettingOrigin {
  setting: string;
  value: string;
  /** `inventory nodes[0].ssh.user`, `~/.ssh/config:4 (User, in Host pi-1)` or `default`. */
  from: string;
}

export interface ResolvedNodeSsh {
  node: string;
  /** The host as the inventory names it (perhaps an alias). */
  alias: string;
  settings: NodeSshSettings;
  origins: SettingOrigin[];
  /** Config lines that apply to this node and are not followed, as sentences naming the file and line. */
  warnings: string[];
  /** Values that cannot be used: bad input, exit 2 before any connection. */
  errors: string[];
}

/** What the lookup needs to know about this computer (os.userInfo, os.hostname). */
export type LocalContext = Pick<LookupContext, 'localUser' | 'localHostName' | 'uid' | 'home' | 'env'>;

function describe(f: Found<unknown>): string {
  return `${f.origin.file}:${f.origin.line} (${f.keyword}${f.block ? `, in ${f.block}` : ''})`;
}

/** The inventory's own value for an SSH field of a node, with its path: the node's section first. */
function explicit<K extends 'user' | 'port' | 'keyPath' | 'useAgent'>(inventory: Inventory, node: InventoryNode, index: number, key: K) {
  const own = node.ssh?.[key];
  if (own !== undefined) return { value: own, from: `inventory nodes[${index}].ssh.${key}` };
  const shared = inventory.ssh[key];
  if (shared !== undefined) return { value: shared, from: `inventory ssh.${key}` };
  return undefined;
}

const EMPTY: HostConfig = { identityFiles: [], notHonoured: [], skippedMatches: [], errors: [] };

export function resolveNodeSsh(
  inventory: Inventory,
  node: InventoryNode,
  index: number,
  config: LoadedSshConfig | undefined,
  local: LocalContext,
): ResolvedNodeSsh {
  const origins: SettingOrigin[] = [];
  const warnings: string[] = [];
  const errors: string[] = [];
  const note = (setting: string, value: unknown, from: string) => origins.push({ setting, value: String(value), from });

  const user = explicit(inventory, node, index, 'user');
  const port = explicit(inventory, node, index, 'port');
  const keyPath = explicit(inventory, node, index, 'keyPath');
  const useAgent = explicit(inventory, node, index, 'useAgent');
  const lookup = (host: string, u?: string, p?: number) =>
    config
      ? lookupHost(config.directives, {
          ...local,
          host,
          ...(u !== undefined ? { user: u } : {}),
          ...(p !== undefined ? { port: p } : {}),
          defaultUser: SSH_DEFAULTS.user,
          defaultPort: SSH_DEFAULTS.port,
        })
      : EMPTY;
  const hc = lookup(node.host, user?.value, port?.value);
  collectProblems(hc, `node ${node.name} (host ${node.host})`, warnings, errors);

  const host = hc.hostName?.value ?? node.host;
  note('host', host, hc.hostName ? `${describe(hc.hostName)} for ${node.host}` : `inventory nodes[${index}].host`);
  const finalUser = user?.value ?? hc.user?.value ?? SSH_DEFAULTS.user;
  note('user', finalUser, user?.from ?? (hc.user ? describe(hc.user) : 'default'));
  const finalPort = port?.value ?? hc.port?.value ?? SSH_DEFAULTS.port;
  note('port', finalPort, port?.from ?? (hc.port ? describe(hc.port) : 'default'));

  const { jump: _jump, knownHostsFile, configFile: _configFile, user: _u, port: _p, useAgent: _a, keyPath: _k, ...shared } = inventory.ssh;
  const settings: NodeSshSettings = {
    ...shared,
    ...stripUndefined({ ...node.ssh, user: undefined, port: undefined, useAgent: undefined, keyPath: undefined }),
    host,
    user: finalUser,
    port: finalPort,
    useAgent: useAgent?.value ?? SSH_DEFAULTS.useAgent,
    ...(knownHostsFile ? { knownHostsFile } : {}),
  };
  if (keyPath) {
    settings.keyPath = keyPath.value;
    note('key', keyPath.value, keyPath.from);
  } else if (hc.identityFiles.length > 0) {
    settings.identityFiles = hc.identityFiles.map((f) => f.value);
    for (const f of hc.identityFiles) note('key', f.value, describe(f));
  } else {
    note('key', '~/.ssh/id_ed25519, ~/.ssh/id_ecdsa, ~/.ssh/id_rsa (those present)', 'default');
  }
  note('ssh-agent', settings.useAgent ? 'yes' : 'no', useAgent?.from ?? 'default');
  if (hc.identitiesOnly) {
    settings.identitiesOnly = hc.identitiesOnly.value;
    note('identities only', hc.identitiesOnly.value ? 'yes' : 'no', describe(hc.identitiesOnly));
  }
  if (hc.userKnownHostsFiles) {
    settings.userKnownHostsFiles = hc.userKnownHostsFiles.value;
    note('known_hosts read', hc.userKnownHostsFiles.value.join(' ') || 'none', describe(hc.userKnownHostsFiles));
  }

  const jump = resolveJump(inventory, node, hc, lookup, errors, warnings);
  if (jump) {
    settings.jump = jump.settings;
    note('jump host', `${jump.settings.user ?? finalUser}@${jump.settings.host}:${jump.settings.port}`, jump.from);
  }
  return { node: node.name, alias: node.host, settings, origins, warnings, errors };
}

/** The jump host: the inventory's ssh.jump, else the config's ProxyJump; its own host is looked up in the config too. */
function resolveJump(
  inventory: Inventory,
  node: InventoryNode,
  hc: HostConfig,
  lookup: (host: string, user?: string, port?: number) => HostConfig,
  errors: string[],
  warnings: string[],
): { settings: JumpSettings; from: string } | undefined {
  let spec: { host: string; user?: string; port?: number; keyPath?: string };
  let from: string;
  if (inventory.ssh.jump) {
    spec = inventory.ssh.jump;
    from = 'inventory ssh.jump';
  } else if (hc.proxyJump && hc.proxyJump.value.toLowerCase() !== 'none') {
    const where = `${hc.proxyJump.origin.file}:${hc.proxyJump.origin.line}`;
    if (hc.proxyJump.value.includes(',')) {
      errors.push(
        `${where}: ProxyJump ${hc.proxyJump.value} for node ${node.name} goes through several jump hosts; revue-pi goes through one. Give the node a config entry with a single ProxyJump, or set ssh.jump in the inventory.`,
      );
      return undefined;
    }
    const parsed = parseJumpSpec(hc.proxyJump.value);
    if (!parsed) {
      errors.push(`${where}: ProxyJump ${hc.proxyJump.value} for node ${node.name} is not [user@]host[:port].`);
      return undefined;
    }
    spec = parsed;
    from = describe(hc.proxyJump);
  } else {
    return undefined;
  }
  const jc = lookup(spec.host, spec.user, spec.port);
  collectProblems(jc, `the jump host ${spec.host} of node ${node.name}`, warnings, errors);
  if (jc.proxyJump && jc.proxyJump.value.toLowerCase() !== 'none') {
    errors.push(
      `${jc.proxyJump.origin.file}:${jc.proxyJump.origin.line}: the jump host ${spec.host} of node ${node.name} has a ProxyJump of its own (${jc.proxyJump.value}); revue-pi goes through one jump host only.`,
    );
  }
  const settings: JumpSettings = {
    host: jc.hostName?.value ?? spec.host,
    port: spec.port ?? jc.port?.value ?? SSH_DEFAULTS.port,
  };
  const user = spec.user ?? jc.user?.value;
  if (user !== undefined) settings.user = user;
  if (spec.keyPath) settings.keyPath = spec.keyPath;
  else if (jc.identityFiles.length > 0) settings.identityFiles = jc.identityFiles.map((f) => f.value);
  if (jc.identitiesOnly) settings.identitiesOnly = jc.identitiesOnly.value;
  if (jc.userKnownHostsFiles) settings.userKnownHostsFiles = jc.userKnownHostsFiles.value;
  const through = jc.hostName ? `; ${spec.host} → ${settings.host} from ${describe(jc.hostName)}` : '';
  return { settings, from: `${from}${through}` };
}

/** `[user@]host[:port]` or `ssh://[user@]host[:port]`; IPv6 addresses in brackets. */
export function parseJumpSpec(text: string): { host: string; user?: string; port?: number } | undefined {
  const m = /^(?:ssh:\/\/)?(?:([^@\s]+)@)?(\[[^\]]+\]|[^:@\s[\]]+)(?::(\d+))?$/.exec(text.trim());
  if (!m) return undefined;
  const port = m[3] === undefined ? undefined : Number(m[3]);
  if (port !== undefined && (port < 1 || port > 65535)) return undefined;
  const host = m[2]!.replace(/^\[|\]$/g, '');
  return { host, ...(m[1] ? { user: m[1] } : {}), ...(port !== undefined ? { port } : {}) };
}

function collectProblems(hc: HostConfig, who: string, warnings: string[], errors: string[]): void {
  for (const f of hc.notHonoured) {
    warnings.push(
      `${f.origin.file}:${f.origin.line}: ${f.keyword} ${f.value} applies to ${who}, but revue-pi does not follow ${f.keyword}; the connection is made without it.`,
    );
  }
  for (const m of hc.skippedMatches) {
    warnings.push(`${m.origin.file}:${m.origin.line}: Match ${m.criterion} is not supported by revue-pi, so this Match block is not applied to ${who}.`);
  }
  errors.push(...hc.errors);
}

export interface ResolvedInventorySsh {
  /** The inventory with each node's host replaced by the address SSH reaches it at (the config's HostName). */
  inventory: Inventory;
  nodes: Map<string, ResolvedNodeSsh>;
  /** Deduplicated across nodes. */
  warnings: string[];
  errors: string[];
}

export function resolveInventorySsh(inventory: Inventory, config: LoadedSshConfig | undefined, local: LocalContext): ResolvedInventorySsh {
  const nodes = new Map<string, ResolvedNodeSsh>();
  inventory.nodes.forEach((node, i) => nodes.set(node.name, resolveNodeSsh(inventory, node, i, config, local)));
  const all = [...nodes.values()];
  return {
    inventory: { ...inventory, nodes: inventory.nodes.map((n) => ({ ...n, host: nodes.get(n.name)!.settings.host })) },
    nodes,
    warnings: [...new Set(all.flatMap((r) => r.warnings))],
    errors: [...new Set(all.flatMap((r) => r.errors))],
  };
}

/** One line per node for `plan --verbose`: every SSH setting and where it came from. */
export function formatSshOrigins(resolved: ResolvedNodeSsh): string[] {
  return [`${resolved.node}: SSH settings`, ...resolved.origins.map((o) => `    ${o.setting} ${o.value} — ${o.from}`)];
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
