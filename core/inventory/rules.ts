import path from 'node:path';
import { IMAGE_REPOSITORIES, hasPinnedTag, isImageKey } from './images.js';
import type { InventoryIssue } from '../errors.js';
import { addressBlockProblem, blockContains, blocksOverlap, formatAddressBlock, parseAddressBlock, parseIPv4, type AddressBlock } from './addresses.js';
import { didYouMean } from './messages.js';
import { formatPath, type PathSegment } from './path.js';
import type { Inventory, SshSettings } from './schema.js';

/**
 * Semantic rules over an inventory that already has the right shape. Each rule is a named, pure
 * function returning issues with the path of the field at fault; parse.ts adds line:column.
 * Only `airgapFilesExist` and `keyFilesExist` look at the file system, and only through ctx.fileState/fileExists;
 * only `envVariablesSet` looks at the environment, through ctx.env.
 */

/** What a local file the inventory names is: a readable file, absent, a folder, or there but not readable. */
export type FileState = 'file' | 'missing' | 'folder' | 'unreadable';

export interface RuleContext {
  /** The inventory file's folder: relative file paths in the inventory are relative to it. */
  baseDir: string;
  /** Whether a local file exists. Without it (and fileState), the rules that check files report nothing. */
  fileExists?: (file: string) => boolean;
  /** What a local file is (folder, unreadable…); preferred over fileExists. */
  fileState?: (file: string) => FileState;
  /** The environment the secrets are read from. Without it, the *Env fields are not checked for being set. */
  env?: NodeJS.ProcessEnv;
}

function fileStateOf(ctx: RuleContext, file: string): FileState | undefined {
  if (ctx.fileState) return ctx.fileState(file);
  if (ctx.fileExists) return ctx.fileExists(file) ? 'file' : 'missing';
  return undefined;
}

export interface RuleIssue extends InventoryIssue {
  /** Point at the field's key rather than its value. */
  at?: 'key' | 'value';
}

export type InventoryRule = (inventory: Inventory, ctx: RuleContext) => RuleIssue[];

export const K3S_VERSION_PATTERN = /^v\d+\.\d+\.\d+\+k3s\d+$/;
const K3S_CHANNEL_PATTERN = /^(stable|latest|testing|v\d+\.\d+)$/;
/** Environment variable names as POSIX tools write them; a lowercase or mixed value is most likely the secret itself. */
const ENV_NAME_PATTERN = /^[A-Z_][A-Z0-9_]*$/;

const error = (segments: PathSegment[], message: string, at?: 'key'): RuleIssue => ({
  path: formatPath(segments),
  message,
  severity: 'error',
  ...(at ? { at } : {}),
});
const warning = (segments: PathSegment[], message: string): RuleIssue => ({
  path: formatPath(segments),
  message,
  severity: 'warning',
});

export const uniqueNodeNames: InventoryRule = (inv) => {
  const issues: RuleIssue[] = [];
  const seen = new Map<string, number>();
  inv.nodes.forEach((node, i) => {
    const first = seen.get(node.name);
    if (first === undefined) seen.set(node.name, i);
    else issues.push(error(['nodes', i, 'name'], `node name "${node.name}" is already used by nodes[${first}] — give every node its own name`));
  });
  return issues;
};

export const uniqueNodeHosts: InventoryRule = (inv) => {
  const issues: RuleIssue[] = [];
  const seen = new Map<string, number>();
  inv.nodes.forEach((node, i) => {
    const key = node.host.trim().toLowerCase();
    const first = seen.get(key);
    if (first === undefined) seen.set(key, i);
    else {
      const other = inv.nodes[first]?.name ?? '';
      issues.push(error(['nodes', i, 'host'], `host ${node.host} is already used by node ${other} (nodes[${first}]) — each node needs its own address`));
    }
  });
  return issues;
};

export const atLeastOneServer: InventoryRule = (inv) =>
  inv.nodes.some((n) => n.role === 'server')
    ? []
    : [error(['nodes'], 'no node has role: server — make at least one node (usually the first) role: server; it runs the K3s control plane')];

export const oddServerCount: InventoryRule = (inv) => {
  const servers = inv.nodes.filter((n) => n.role === 'server').length;
  if (servers === 0 || servers % 2 === 1) return [];
  return [
    warning(
      ['nodes'],
      `${servers} nodes have role: server — etcd needs a majority, so ${servers} servers survive no more failures than ${servers - 1}; use 1, 3 or 5 servers`,
    ),
  ];
};

export const k3sVersionFormat: InventoryRule = (inv) => {
  const issues: RuleIssue[] = [];
  const { version, channel } = inv.k3s;
  if (version !== undefined && !K3S_VERSION_PATTERN.test(version)) {
    const close = /^v?(\d+\.\d+\.\d+)(\+k3s(\d+))?$/.exec(version.trim());
    const suggestion = close
      ? ` — did you mean "v${close[1]}+k3s${close[3] ?? '1'}"?`
      : ' — copy a release name from https://github.com/k3s-io/k3s/releases, e.g. v1.33.5+k3s1';
    issues.push(error(['k3s', 'version'], `k3s.version must look like vX.Y.Z+k3sN${suggestion}`));
  }
  if (channel !== undefined && !K3S_CHANNEL_PATTERN.test(channel)) {
    issues.push(error(['k3s', 'channel'], 'k3s.channel must be stable, latest, testing or a minor version such as v1.33'));
  }
  if (version !== undefined && channel !== undefined) {
    issues.push(error(['k3s', 'channel'], 'set k3s.version or k3s.channel, not both — the installer ignores the channel when a version is given; remove one'));
  }
  return issues;
};

interface ParsedPoolEntry {
  segments: PathSegment[];
  text: string;
  block: AddressBlock;
}

function poolEntries(inv: Inventory): ParsedPoolEntry[] {
  const entries: ParsedPoolEntry[] = [];
  inv.network.metallb.pools.forEach((pool, p) =>
    pool.addresses.forEach((text, a) => {
      const block = parseAddressBlock(text);
      if (block) entries.push({ segments: ['network', 'metallb', 'pools', p, 'addresses', a], text, block });
    }),
  );
  return entries;
}

export const poolsParse: InventoryRule = (inv) => {
  const issues: RuleIssue[] = [];
  const names = new Map<string, number>();
  inv.network.metallb.pools.forEach((pool, p) => {
    const first = names.get(pool.name);
    if (first === undefined) names.set(pool.name, p);
    else
      issues.push(
        error(['network', 'metallb', 'pools', p, 'name'], `pool name "${pool.name}" is already used by pools[${first}] — give every pool its own name`),
      );
    pool.addresses.forEach((text, a) => {
      const problem = addressBlockProblem(text);
      if (problem !== undefined) issues.push(error(['network', 'metallb', 'pools', p, 'addresses', a], problem));
    });
  });
  return issues;
};

export const poolsDoNotOverlap: InventoryRule = (inv) => {
  const issues: RuleIssue[] = [];
  const entries = poolEntries(inv);
  entries.forEach((entry, i) => {
    const earlier = entries.slice(0, i).find((other) => blocksOverlap(entry.block, other.block));
    if (earlier) {
      issues.push(
        error(
          entry.segments,
          `${entry.text} overlaps ${earlier.text} (${formatPath(earlier.segments.slice(2))}) — an address may belong to one pool only; shrink or remove one of them`,
        ),
      );
    }
    const inside = inv.nodes.filter((node) => {
      const ip = parseIPv4(node.host.trim());
      return ip !== undefined && blockContains(entry.block, ip);
    });
    if (inside.length > 0) {
      const what =
        inside.length === 1
          ? `${inside[0]?.host}, the address of node ${inside[0]?.name}`
          : `${andList(inside.map((n) => n.host))}, the addresses of nodes ${andList(inside.map((n) => n.name))}`;
      issues.push(error(entry.segments, `${entry.text} contains ${what} — MetalLB would hand them to services; keep node addresses out of the pool`));
    }
  });
  return issues;
};

function andList(items: string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

export const fixedAddressesInPools: InventoryRule = (inv) => {
  const issues: RuleIssue[] = [];
  const blocks = poolEntries(inv).map((e) => e.block);
  // With a pool entry that does not parse (reported by poolsParse), "not inside any pool" would be a guess.
  const poolsKnown = inv.network.metallb.pools.every((pool) => pool.addresses.every((a) => parseAddressBlock(a) !== undefined));
  const { ingress, mediaServer, kafka } = inv.network.addresses;
  const fixed: { segments: PathSegment[]; text: string }[] = [];
  if (ingress !== undefined) fixed.push({ segments: ['network', 'addresses', 'ingress'], text: ingress });
  if (mediaServer !== undefined) fixed.push({ segments: ['network', 'addresses', 'mediaServer'], text: mediaServer });
  (kafka ?? []).forEach((text, k) => fixed.push({ segments: ['network', 'addresses', 'kafka', k], text }));

  const seen = new Map<number, string>();
  for (const { segments, text } of fixed) {
    const ip = parseIPv4(text.trim());
    const name = formatPath(segments);
    if (ip === undefined) {
      issues.push(error(segments, `${name} must be an IPv4 address such as 192.168.1.200 (got ${JSON.stringify(text)})`));
      continue;
    }
    const other = seen.get(ip);
    if (other !== undefined) {
      issues.push(error(segments, `${text} is already used by ${other} — every fixed address must be different`));
    } else {
      seen.set(ip, name);
    }
    if (poolsKnown && !blocks.some((b) => blockContains(b, ip))) {
      const pools = blocks.map(formatAddressBlock).join(', ');
      const fix = pools === '' ? 'add a pool under network.metallb.pools that contains it' : `pick an address in ${pools} or widen a pool`;
      issues.push(error(segments, `${text} is not inside any MetalLB pool — ${fix}`));
    }
  }
  return issues;
};

export const poolsWhenNeeded: InventoryRule = (inv) => {
  const { metallb } = inv.network;
  const needing = [inv.workloads.revue && 'Revue', inv.workloads.monitoring && 'monitoring'].filter(Boolean);
  if (!metallb.enabled || needing.length === 0 || metallb.pools.length > 0) return [];
  return [
    error(
      ['network', 'metallb', 'pools'],
      `no MetalLB address pool — ${needing.join(' and ')} need${needing.length === 1 ? 's' : ''} LoadBalancer addresses; add a pool of free LAN addresses outside your router's DHCP range, e.g. 192.168.1.200-192.168.1.220`,
    ),
  ];
};

export const poolsIgnoredWhenDisabled: InventoryRule = (inv) => {
  const { metallb } = inv.network;
  if (metallb.enabled || metallb.pools.length === 0) return [];
  return [
    warning(['network', 'metallb', 'enabled'], 'MetalLB is disabled, so its address pools are ignored — set network.metallb.enabled: true or remove the pools'),
  ];
};

const AIRGAP_FILES = {
  binary: 'the k3s-arm64 binary of the K3s release',
  images: 'the k3s-airgap-images-arm64 tarball of the K3s release',
  installScript: 'a saved copy of https://get.k3s.io',
} as const;

export const airgapFilesExist: InventoryRule = (inv, ctx) => {
  const airgap = inv.k3s.airgap;
  if (airgap === undefined) return [];
  const issues: RuleIssue[] = [];
  for (const key of Object.keys(AIRGAP_FILES) as (keyof typeof AIRGAP_FILES)[]) {
    const file = path.resolve(ctx.baseDir, airgap[key]);
    const state = fileStateOf(ctx, file);
    const segments: PathSegment[] = ['k3s', 'airgap', key];
    if (state === 'missing') {
      issues.push(error(segments, `file ${file} not found — put ${AIRGAP_FILES[key]} there, or fix the path (relative paths start at the inventory's folder)`));
    } else if (state === 'folder') {
      issues.push(error(segments, `${file} is a folder — point ${formatPath(segments)} at ${AIRGAP_FILES[key]} itself`));
    } else if (state === 'unreadable') {
      issues.push(error(segments, `${file} cannot be read (permission denied) — check its owner and mode`));
    }
  }
  return issues;
};

export const keyFilesExist: InventoryRule = (inv, ctx) => {
  const issues: RuleIssue[] = [];
  const check = (segments: PathSegment[], keyPath: string | undefined) => {
    if (keyPath === undefined) return;
    const file = path.resolve(ctx.baseDir, keyPath);
    const state = fileStateOf(ctx, file);
    const field = formatPath(segments);
    if (state === 'missing')
      issues.push(error(segments, `SSH key ${file} not found — point ${field} at your private key file, or remove it to use the ssh-agent`));
    else if (state === 'folder')
      issues.push(error(segments, `${file} is a folder — point ${field} at the private key file inside it, e.g. ${path.join(file, 'id_ed25519')}`));
    else if (state === 'unreadable')
      issues.push(error(segments, `SSH key ${file} cannot be read (permission denied) — it must belong to you (chmod 600 is right for a key)`));
  };
  check(['ssh', 'keyPath'], inv.ssh.keyPath);
  check(['ssh', 'jump', 'keyPath'], inv.ssh.jump?.keyPath);
  inv.nodes.forEach((node, i) => check(['nodes', i, 'ssh', 'keyPath'], node.ssh?.keyPath));
  // The known_hosts file may not exist yet (it is created on first trust); a folder or an unreadable file there is wrong.
  const knownHosts = inv.ssh.knownHostsFile;
  if (knownHosts !== undefined) {
    const file = path.resolve(ctx.baseDir, knownHosts);
    const state = fileStateOf(ctx, file);
    const segments: PathSegment[] = ['ssh', 'knownHostsFile'];
    if (state === 'folder')
      issues.push(error(segments, `${file} is a folder — point ssh.knownHostsFile at a file, e.g. ${path.join(file, 'known_hosts')} (created on first use)`));
    else if (state === 'unreadable')
      issues.push(error(segments, `${file} cannot be read (permission denied) — check its owner and mode, or point ssh.knownHostsFile elsewhere`));
  }
  return issues;
};

const ENV_FIELDS = ['keyPassphraseEnv', 'passwordEnv', 'sudoPasswordEnv'] as const;
const ENV_EXAMPLES: Record<(typeof ENV_FIELDS)[number], string> = {
  keyPassphraseEnv: 'PI_KEY_PASSPHRASE',
  passwordEnv: 'PI_PASSWORD',
  sudoPasswordEnv: 'PI_SUDO_PASSWORD',
};

/** `passwordEnv: raspberry` passes the schema's name pattern but is a password, not a name. The value is never repeated. */
export const envFieldsHoldNames: InventoryRule = (inv) => {
  const issues: RuleIssue[] = [];
  const check = (prefix: PathSegment[], ssh: SshSettings | undefined) => {
    if (ssh === undefined) return;
    for (const field of ENV_FIELDS) {
      const value = ssh[field];
      if (value === undefined || ENV_NAME_PATTERN.test(value)) continue;
      const example = ENV_EXAMPLES[field];
      issues.push(
        error(
          [...prefix, field],
          `${field} must be the NAME of an environment variable in capitals, such as ${example}, never the secret itself — run export ${example}=… before revue-pi and write ${field}: ${example}`,
        ),
      );
    }
  };
  check(['ssh'], inv.ssh);
  inv.nodes.forEach((node, i) => check(['nodes', i, 'ssh'], node.ssh));
  return issues;
};

/** A *Env field names a variable: it must be set (not empty) where the command reads secrets, or the login fails later. */
export const envVariablesSet: InventoryRule = (inv, ctx) => {
  const env = ctx.env;
  if (env === undefined) return [];
  const issues: RuleIssue[] = [];
  const check = (prefix: PathSegment[], ssh: SshSettings | undefined) => {
    if (ssh === undefined) return;
    for (const field of ENV_FIELDS) {
      const name = ssh[field];
      if (name === undefined || !ENV_NAME_PATTERN.test(name)) continue;
      const value = env[name];
      if (value !== undefined && value !== '') continue;
      issues.push(
        error(
          [...prefix, field],
          `${field} names the environment variable ${name}, which is ${value === '' ? 'empty' : 'not set'} — run export ${name}=… in this shell before revue-pi, or remove ${field}`,
        ),
      );
    }
  };
  check(['ssh'], inv.ssh);
  inv.nodes.forEach((node, i) => check(['nodes', i, 'ssh'], node.ssh));
  return issues;
};

export const noNodeRoleLabels: InventoryRule = (inv) => {
  const issues: RuleIssue[] = [];
  inv.nodes.forEach((node, i) => {
    for (const key of Object.keys(node.labels)) {
      if (key.startsWith('node-role.kubernetes.io/')) {
        issues.push(
          error(
            ['nodes', i, 'labels', key],
            `label ${key} cannot be set at registration — the kubelet refuses to start with it; use your own prefix, e.g. revue-pi/role`,
            'key',
          ),
        );
      }
    }
  });
  return issues;
};

const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Kubernetes label syntax: the node would fail to register with a bad label. */
export const labelsAreValid: InventoryRule = (inv) => {
  const issues: RuleIssue[] = [];
  inv.nodes.forEach((node, i) => {
    for (const [key, value] of Object.entries(node.labels)) {
      const slash = key.lastIndexOf('/');
      const prefix = slash < 0 ? undefined : key.slice(0, slash);
      const name = slash < 0 ? key : key.slice(slash + 1);
      const prefixOk = prefix === undefined || (prefix.length <= 253 && DNS_SUBDOMAIN.test(prefix));
      if (!prefixOk || !LABEL_NAME.test(name)) {
        issues.push(
          error(
            ['nodes', i, 'labels', key],
            `label key ${JSON.stringify(key)} is not a Kubernetes label key — use an optional DNS prefix and "/", then up to 63 letters, digits, "-", "_" or ".", e.g. example.com/zone`,
            'key',
          ),
        );
      } else if (value !== '' && !LABEL_NAME.test(value)) {
        issues.push(
          error(
            ['nodes', i, 'labels', key],
            `label ${key} has value ${JSON.stringify(value)}, which Kubernetes refuses — use up to 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit`,
          ),
        );
      }
    }
  });
  return issues;
};

export const wifiNeedsPromiscuous: InventoryRule = (inv) => {
  if (!inv.network.metallb.enabled || inv.pi.wifiPromiscuous) return [];
  return inv.nodes.flatMap((node, i) =>
    node.wifiInterface === undefined
      ? []
      : [
          warning(
            ['nodes', i, 'wifiInterface'],
            `node ${node.name} reaches the LAN over Wi-Fi, where MetalLB's addresses do not answer ARP unless the interface is promiscuous — set pi.wifiPromiscuous: true, or use Ethernet`,
          ),
        ],
  );
};

export const promiscuousNeedsInterface: InventoryRule = (inv) => {
  if (!inv.pi.wifiPromiscuous || inv.nodes.some((n) => n.wifiInterface !== undefined)) return [];
  return [
    warning(
      ['pi', 'wifiPromiscuous'],
      'pi.wifiPromiscuous is on but no node names its wifiInterface, so nothing will be changed — add wifiInterface: wlan0 to the nodes on Wi-Fi',
    ),
  ];
};

/** `workloads.images` overrides must name an image the workloads use and pin it (a tag other than latest, or a digest). */
export const imageOverridesKnown: InventoryRule = (inv) => {
  const issues: RuleIssue[] = [];
  const keys = Object.keys(IMAGE_REPOSITORIES);
  for (const [key, ref] of Object.entries(inv.workloads.images)) {
    const segments: PathSegment[] = ['workloads', 'images', key];
    if (!isImageKey(key)) {
      const suggestion = didYouMean(key, keys);
      const fix = suggestion === undefined ? `use one of: ${keys.join(', ')}` : `did you mean "${suggestion}"?`;
      issues.push(error(segments, `unknown image ${JSON.stringify(key)} — ${fix}`, 'key'));
    } else if (!hasPinnedTag(ref)) {
      issues.push(
        error(segments, `${key} must name a fixed tag or digest, not latest or none — write it as repository:tag, e.g. ${IMAGE_REPOSITORIES[key]}:1.2.3`),
      );
    }
  }
  return issues;
};

/**
 * Revue's web UI (v3.1.14, frontend/src/utils/RequestHelper.ts) calls its services as <service>.localhost when its own
 * URL contains "localhost", and as revue-<service> otherwise; revue-pi routes and prints the hosts for the latter.
 */
export const domainWithoutLocalhost: InventoryRule = (inv) => {
  if (!inv.workloads.revue || !inv.cluster.domain.includes('localhost')) return [];
  return [
    error(
      ['cluster', 'domain'],
      `cluster.domain "${inv.cluster.domain}" contains "localhost": Revue's web UI would then call its services as <service>.localhost, which revue-pi does not route — choose another domain, e.g. revue.lan`,
    ),
  ];
};

/** Every rule, in the order their issues are reported for the same line. */
export const inventoryRules: Record<string, InventoryRule> = {
  uniqueNodeNames,
  uniqueNodeHosts,
  atLeastOneServer,
  oddServerCount,
  k3sVersionFormat,
  poolsParse,
  poolsDoNotOverlap,
  fixedAddressesInPools,
  poolsWhenNeeded,
  poolsIgnoredWhenDisabled,
  airgapFilesExist,
  keyFilesExist,
  envFieldsHoldNames,
  envVariablesSet,
  noNodeRoleLabels,
  labelsAreValid,
  wifiNeedsPromiscuous,
  promiscuousNeedsInterface,
  imageOverridesKnown,
  domainWithoutLocalhost,
};

export function checkInventory(inventory: Inventory, ctx: RuleContext): RuleIssue[] {
  return Object.values(inventoryRules).flatMap((rule) => rule(inventory, ctx));
}
