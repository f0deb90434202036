import { join } from 'node:path';
import { readTextIfExists, writePrivateFile } from '../provision/state.js';
import { decodeFileSection, fileSection, type ProbeSection } from '../provision/steps/probe.js';
import { shQuote } from '../provision/transport/commands.js';
import { K3S_BINARY_PATH, K3S_CONFIG_PATH, NODE_PASSWORD_PATH, SERVER_TOKEN_PATH, TOKEN_FILE_PATH, type K3sUnit } from './paths.js';

/** What K3s looks like on a node, read in the node's single probe round trip (sudo). */
export interface K3sFacts {
  /** `v1.33.5+k3s1` from `k3s --version`; undefined when no k3s binary is installed. */
  installedVersion?: string;
  /** size:mtime:inode of /usr/local/bin/k3s — changes whenever the binary is replaced (install, upgrade). */
  binaryFingerprint?: string;
  /** /etc/rancher/k3s/config.yaml as found. */
  config?: string;
  /** sha256 of the token file revue-pi writes (the token itself never leaves the node in a probe). */
  tokenFileSha256?: string;
  /** sha256 of the secret part of the server's own token file (servers that have run): what the cluster really uses. */
  serverTokenSha256?: string;
  /** The installed unit; when both exist (a role change by hand), the active one, else k3s. */
  unit: K3sUnit | undefined;
  /** Both units' presence, for the role-change check. */
  units: K3sUnit[];
  /** The installed unit is active (running). */
  active: boolean;
  /** /etc/rancher/node/password exists (the node registered with a cluster before). */
  nodePassword: boolean;
}

const ETC_UNIT = (u: string) => `/etc/systemd/system/${u}.service`;

/** What an earlier run learnt about a node's binary, so a re-run need not execute it to learn its version. */
export interface K3sVersionCacheEntry {
  fingerprint: string;
  version: string;
}

const FINGERPRINT = `stat -c '%s:%Y:%i' ${K3S_BINARY_PATH}`;
const VERSION = '( PATH="$PATH:/usr/local/bin"; command -v k3s >/dev/null && k3s --version )';
export const VERSION_CACHED_MARK = 'revue-pi: version cached';

/**
 * The k3s sections of the node's single probe round trip (run with sudo). With `cached`, `k3s --version`
 * runs only when the binary's fingerprint differs from the one recorded — a converged re-run executes no
 * K3s binary on any node for its probe.
 */
export function k3sProbeSections(cached?: K3sVersionCacheEntry): ProbeSection[] {
  return [
    { name: 'k3s_binary', script: `[ -x ${K3S_BINARY_PATH} ] && ${FINGERPRINT}` },
    {
      name: 'k3s_version',
      script: cached ? `if [ "$(${FINGERPRINT} 2>/dev/null)" = ${shQuote(cached.fingerprint)} ]; then echo '${VERSION_CACHED_MARK}'; else ${VERSION}; fi` : VERSION,
    },
    fileSection('k3s_config', K3S_CONFIG_PATH),
    { name: 'k3s_token_sha256', script: `[ -f ${TOKEN_FILE_PATH} ] && sha256sum ${TOKEN_FILE_PATH} | cut -d' ' -f1` },
    // Only the secret after `::server:` (or the whole plain token) is hashed, trimmed like K3s trims it.
    {
      name: 'k3s_server_token_sha256',
      script: `[ -f ${SERVER_TOKEN_PATH} ] && tr -d '\\n\\r' < ${SERVER_TOKEN_PATH} | sed 's/^K10[0-9a-f]*::[^:]*://' | sha256sum | cut -d' ' -f1`,
    },
    {
      name: 'k3s_units',
      script: `for u in k3s k3s-agent; do if [ -f ${ETC_UNIT('$u')} ]; then echo "$u $(systemctl is-active $u.service 2>/dev/null)"; fi; done`,
    },
    { name: 'k3s_node_password', script: `[ -f ${NODE_PASSWORD_PATH} ] && echo present` },
  ];
}

/** The sections without a version cache (always runs `k3s --version` when a binary is there). */
export const K3S_PROBE_SECTIONS: ProbeSection[] = k3sProbeSections();

const SHA256 = /^[0-9a-f]{64}$/;

export function parseK3sFacts(sections: Map<string, string>, cached?: K3sVersionCacheEntry): K3sFacts {
  const versionText = (sections.get('k3s_version') ?? '').trim();
  const binaryFingerprint = (sections.get('k3s_binary') ?? '').trim() || undefined;
  const version = versionText === VERSION_CACHED_MARK && cached && cached.fingerprint === binaryFingerprint ? [versionText, cached.version] : /k3s version (v\S+)/.exec(versionText);
  const units = new Map<K3sUnit, string>();
  for (const line of (sections.get('k3s_units') ?? '').split('\n')) {
    const [name, state] = line.trim().split(/\s+/);
    if (name === 'k3s' || name === 'k3s-agent') units.set(name, state ?? 'unknown');
  }
  const activeUnit = [...units].find(([, state]) => state === 'active')?.[0];
  const unit = activeUnit ?? (units.has('k3s') ? 'k3s' : units.has('k3s-agent') ? 'k3s-agent' : undefined);
  const sha = (name: string) => {
    const value = (sections.get(name) ?? '').trim();
    return SHA256.test(value) ? value : undefined;
  };
  return {
    installedVersion: version?.[1],
    binaryFingerprint,
    config: decodeFileSection(sections, 'k3s_config'),
    tokenFileSha256: sha('k3s_token_sha256'),
    serverTokenSha256: sha('k3s_server_token_sha256'),
    unit,
    units: [...units.keys()].sort(),
    active: unit !== undefined && units.get(unit) === 'active',
    nodePassword: (sections.get('k3s_node_password') ?? '').trim() === 'present',
  };
}

/** A node with no K3s at all (plan --offline, fresh Pis). */
export function freshK3sFacts(): K3sFacts {
  return { unit: undefined, units: [], active: false, nodePassword: false };
}

const CACHE_FILE = 'k3s-versions.json';

/** node name → what its K3s binary was last time; absent or unreadable → empty (then every probe asks the binary). */
export function readK3sVersionCache(stateDir: string): Record<string, K3sVersionCacheEntry> {
  try {
    const parsed = JSON.parse(readTextIfExists(join(stateDir, CACHE_FILE)) ?? '{}') as Record<string, K3sVersionCacheEntry>;
    return Object.fromEntries(Object.entries(parsed).filter(([, e]) => typeof e?.fingerprint === 'string' && typeof e?.version === 'string'));
  } catch {
    return {};
  }
}

/** Records the versions probed this run; returns whether the file changed. */
export function updateK3sVersionCache(stateDir: string, probed: { name: string; facts: K3sFacts }[]): boolean {
  const before = readK3sVersionCache(stateDir);
  const next = { ...before };
  for (const { name, facts } of probed) {
    if (facts.binaryFingerprint && facts.installedVersion) next[name] = { fingerprint: facts.binaryFingerprint, version: facts.installedVersion };
    else delete next[name];
  }
  const canonical = (c: Record<string, K3sVersionCacheEntry>) =>
    JSON.stringify(Object.fromEntries(Object.keys(c).sort().map((k) => [k, { fingerprint: c[k]!.fingerprint, version: c[k]!.version }])), null, 2) + '\n';
  const text = canonical(next);
  if (text === canonical(before)) return false;
  writePrivateFile(join(stateDir, CACHE_FILE), text);
  return true;
}
