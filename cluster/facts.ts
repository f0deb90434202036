import { join } from 'node:path';
import { readTextIfExists, writePrivateFile } from '../core/state.js';
import { buildProbeScript, decodeFileSection, fileSection, type ProbeSection } from '../core/remote/probe.js';
import { sh } from '../core/remote/shell.js';
import { GET_NODES_COMMAND } from './nodes.js';
import { buildDatastoreProbe, parseDatastore } from './day-two/etcd.js';
import {
  K3S_BINARY_PATH,
  K3S_CONFIG_PATH,
  K3S_KUBECONFIG_PATH,
  NODE_PASSWORD_PATH,
  SERVER_TOKEN_PATH,
  TOKEN_FILE_PATH,
  type K3sUnit,
} from '../core/k3s-paths.js';

/** What K3s looks like on a node, read in the node's single probe round trip (sudo). */
export interface K3sFacts {
  /** `v1.33.5+k3s1` from `k3s --version`; undefined when no k3s binary is installed. */
  installedVersion?: string;
  /** size:mtime:inode of /usr/local/bin/k3s — changes whenever the binary is replaced (install, upgrade). */
  binaryFingerprint?: string;
  /** size:mtime:ctime:inode and name of each root-only file K3s reads (ROOT_FILES), one line each: see RootFilesCache. */
  rootFilesFingerprint?: string;
  /** /etc/rancher/k3s/config.yaml as found. */
  config?: string;
  /** sha256 of the token file revue-pi writes (the token itself never leaves the node in a probe). */
  tokenFileSha256?: string;
  /** sha256 of the secret part of the server's own token file and a newline (servers that have run): what the cluster really uses. */
  serverTokenSha256?: string;
  /** The installed unit; when both exist (a role change by hand), the active one, else k3s. */
  unit: K3sUnit | undefined;
  /** Both units' presence, for the role-change check. */
  units: K3sUnit[];
  /** The installed unit is active (running). */
  active: boolean;
  /** /etc/rancher/node/password exists (the node registered with a cluster before). */
  nodePassword: boolean;
  /** A server's datastore as found on disk (db/etcd/member or db/state.db); undefined when it has neither (yet). */
  datastore?: 'etcd' | 'sqlite';
  /**
   * First server only (firstServerProbeSections): /etc/rancher/k3s/k3s.yaml as found. Holds the admin client key:
   * never log or print it.
   */
  kubeconfig?: string;
  /** First server only: what `k3s kubectl get nodes -o json` printed when the API answered (else undefined). */
  apiNodesJson?: string;
}

/**
 * What an earlier run read of the root-only files (config.yaml, the token files, the node password), kept with the
 * files' fingerprint: while the fingerprint is the same, so is what they hold (an edit changes the ctime, a write by
 * rename the inode), and a node's probe needs no sudo.
 */
export interface RootFilesCache {
  fingerprint: string;
  config?: string;
  tokenFileSha256?: string;
  serverTokenSha256?: string;
  nodePassword: boolean;
  datastore?: 'etcd' | 'sqlite';
}

/** What an earlier run learnt about a node's binary, so a re-run need not execute it to learn its version. */
export interface K3sVersionCacheEntry {
  fingerprint: string;
  version: string;
  files?: RootFilesCache;
}

/** The files only root may read that the probe reads; their fingerprint is readable without root (traversable folders). */
const ROOT_FILES = [K3S_CONFIG_PATH, TOKEN_FILE_PATH, NODE_PASSWORD_PATH, SERVER_TOKEN_PATH];
/** Exit code of a probe run without root whose files changed and whose `sudo -n` was refused: probe again with sudo. */
export const ROOT_PROBE_REFUSED_EXIT = 86;

const VERSION = sh`( PATH="$PATH:/usr/local/bin"; command -v k3s >/dev/null && k3s --version )`;
export const VERSION_CACHED_MARK = 'revue-pi: version cached';

/**
 * The k3s sections of the node's single probe round trip (run with sudo). With `cached`, `k3s --version`
 * runs only when the binary's fingerprint differs from the one recorded — a converged re-run executes no
 * K3s binary on any node for its probe. Programs started on a converged node: one stat and one systemctl, and under
 * sudo one sha256sum. With `withoutRoot` (and `cached.files`), the root-only sections run only when the files'
 * fingerprint changed, then under `sudo -n`, in the same round trip.
 */
export function k3sProbeSections(cached?: K3sVersionCacheEntry, opts: { withoutRoot?: boolean } = {}): ProbeSection[] {
  const sections: ProbeSection[] = [
    // One stat for the binary and the root-only files: the binary's size:mtime:inode (changes whenever it is replaced)
    // for the version check, the files' size:mtime:ctime:inode and name for k3s_files (RootFilesCache); both kept in
    // variables. Readable without root: the folders are traversable, the files are not read.
    {
      name: 'k3s_binary',
      script: sh`k3s_fingerprint= files=
stats=$(stat -c '%s:%Y:%i|%s:%Y:%Z:%i %n' ${K3S_BINARY_PATH} ${ROOT_FILES})
while IFS= read -r line; do
  case $line in
    *${` ${K3S_BINARY_PATH}`}) [ -x ${K3S_BINARY_PATH} ] && k3s_fingerprint=\${line%%'|'*} ;;
    ?*) files="$files\${files:+
}\${line#*'|'}" ;;
  esac
done <<EOF
$stats
EOF
[ -z "$k3s_fingerprint" ] || echo "$k3s_fingerprint"`,
    },
    {
      name: 'k3s_version',
      script: cached
        ? sh`if [ -n "$k3s_fingerprint" ] && [ "$k3s_fingerprint" = ${cached.fingerprint} ]; then echo ${VERSION_CACHED_MARK}; else ${VERSION}; fi`
        : VERSION,
    },
    fileSection('k3s_config', K3S_CONFIG_PATH),
    // One sha256sum for both token files. Of the server's own token only the secret after `::server:` (or the
    // whole plain token) is hashed, read like K3s reads it (first line, CR trimmed), and fed on stdin with a
    // newline after it: serverSecretSha256() in token.ts hashes the same bytes.
    {
      name: 'k3s_token_hashes',
      script: sh`set --
[ -f ${TOKEN_FILE_PATH} ] && set -- ${TOKEN_FILE_PATH}
secret=
if [ -f ${SERVER_TOKEN_PATH} ]; then IFS= read -r secret < ${SERVER_TOKEN_PATH}; secret=\${secret%'\r'}; secret=\${secret#K10*::*:}; set -- "$@" -; fi
[ $# -gt 0 ] && sha256sum "$@" <<EOF
$secret
EOF`,
    },
    {
      name: 'k3s_units',
      script: sh`set --; for u in k3s k3s-agent; do [ -f /etc/systemd/system/$u.service ] && set -- "$@" $u; done; [ $# -gt 0 ] && echo "$*" && systemctl is-active "$@"`,
    },
    { name: 'k3s_node_password', script: sh`[ -f ${NODE_PASSWORD_PATH} ] && echo present` },
    // Changes only when K3s (re)starts with other settings, which a change of config.yaml precedes: cached with it.
    { name: 'k3s_datastore', script: buildDatastoreProbe() },
  ];
  const rootOnly = new Set(['k3s_config', 'k3s_token_hashes', 'k3s_node_password', 'k3s_datastore']);
  // k3s_files prints what k3s_binary's stat found of the root-only files.
  if (!opts.withoutRoot || !cached?.files) return [...sections, { name: 'k3s_files', script: sh`printf '%s\\n' "$files"` }];
  // Run without root: when the fingerprint is the one cached, what the files hold is too; else only their sections
  // run under `sudo -n` (a password asked for ends the probe with ROOT_PROBE_REFUSED_EXIT: the caller asks again).
  const rootScript = buildProbeScript(sections.filter((s) => rootOnly.has(s.name)));
  return [
    ...sections.filter((s) => !rootOnly.has(s.name)),
    {
      name: 'k3s_files',
      script: sh`printf '%s\\n' "$files"; [ "$files" = ${cached.files.fingerprint} ] || sudo -n sh -c ${rootScript.text} || exit ${ROOT_PROBE_REFUSED_EXIT}`,
    },
  ];
}

/**
 * What the first server adds to its probe, so that a converged re-run needs no further round trip to it for the
 * cluster phase: the kubeconfig K3s wrote, and the node list while the API answers (bounded: a K3s that is down
 * makes kubectl fail at once, one that hangs is cut off by --request-timeout).
 */
export function firstServerProbeSections(opts: { nodes?: boolean } = {}): ProbeSection[] {
  return [
    fileSection('k3s_kubeconfig', K3S_KUBECONFIG_PATH),
    // Left out when the probe already lists the nodes another way (the workloads fast check does).
    ...(opts.nodes === false
      ? []
      : [{ name: 'k3s_api_nodes', script: sh`[ -x ${K3S_BINARY_PATH} ] && [ -f ${K3S_KUBECONFIG_PATH} ] && ${GET_NODES_COMMAND} --request-timeout=10s` }]),
  ];
}

/** The sections without a version cache (always runs `k3s --version` when a binary is there). */
export const K3S_PROBE_SECTIONS: ProbeSection[] = k3sProbeSections();

export function parseK3sFacts(sections: Map<string, string>, cached?: K3sVersionCacheEntry): K3sFacts {
  const versionText = (sections.get('k3s_version') ?? '').trim();
  const binaryFingerprint = (sections.get('k3s_binary') ?? '').trim() || undefined;
  const version =
    versionText === VERSION_CACHED_MARK && cached && cached.fingerprint === binaryFingerprint
      ? [versionText, cached.version]
      : /k3s version (v\S+)/.exec(versionText);
  // k3s_units: the installed units on the first line, then `systemctl is-active` for each, in that order.
  const [unitLine = '', ...states] = (sections.get('k3s_units') ?? '').split('\n');
  const units = new Map<K3sUnit, string>();
  unitLine
    .trim()
    .split(/\s+/)
    .forEach((name, i) => {
      if (name === 'k3s' || name === 'k3s-agent') units.set(name, states[i]?.trim() || 'unknown');
    });
  const activeUnit = [...units].find(([, state]) => state === 'active')?.[0];
  const unit = activeUnit ?? (units.has('k3s') ? 'k3s' : units.has('k3s-agent') ? 'k3s-agent' : undefined);
  // k3s_token_hashes: sha256sum lines, `<hash>  <token file>` and `<hash>  -` for the server's secret.
  const hashes = new Map<string, string>();
  for (const line of (sections.get('k3s_token_hashes') ?? '').split('\n')) {
    const match = /^([0-9a-f]{64}) [ *](.+)$/.exec(line.trim());
    if (match) hashes.set(match[2]!, match[1]!);
  }
  const apiNodes = (sections.get('k3s_api_nodes') ?? '').trim();
  const rootFilesFingerprint = sections.get('k3s_files')?.trim() || undefined;
  // The root-only sections did not run (probe without root, files unchanged): their content is the cached one.
  const files = !sections.has('k3s_config') && cached?.files && cached.files.fingerprint === rootFilesFingerprint ? cached.files : undefined;
  const found = sections.has('k3s_datastore') ? parseDatastore(sections.get('k3s_datastore')!) : 'none';
  const datastore = files ? files.datastore : found === 'none' ? undefined : found;
  return {
    installedVersion: version?.[1],
    binaryFingerprint,
    ...(rootFilesFingerprint !== undefined ? { rootFilesFingerprint } : {}),
    config: files ? files.config : decodeFileSection(sections, 'k3s_config'),
    tokenFileSha256: files ? files.tokenFileSha256 : hashes.get(TOKEN_FILE_PATH),
    serverTokenSha256: files ? files.serverTokenSha256 : hashes.get('-'),
    unit,
    units: [...units.keys()].sort(),
    active: unit !== undefined && units.get(unit) === 'active',
    nodePassword: files ? files.nodePassword : (sections.get('k3s_node_password') ?? '').trim() === 'present',
    ...(datastore ? { datastore } : {}),
    ...(decodeFileSection(sections, 'k3s_kubeconfig') !== undefined ? { kubeconfig: decodeFileSection(sections, 'k3s_kubeconfig') } : {}),
    ...(apiNodes.startsWith('{') ? { apiNodesJson: apiNodes } : {}),
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
    return Object.fromEntries(
      Object.entries(parsed)
        .filter(([, e]) => typeof e?.fingerprint === 'string' && typeof e?.version === 'string')
        .map(([name, e]) => {
          const f = e.files;
          const files = f && typeof f.fingerprint === 'string' && typeof f.nodePassword === 'boolean' ? { files: f } : {};
          return [name, { fingerprint: e.fingerprint, version: e.version, ...files }];
        }),
    );
  } catch {
    return {};
  }
}

/** What the cache keeps of the root-only files as probed (nothing when their fingerprint is unknown). */
function rootFilesOf(facts: K3sFacts): { files?: RootFilesCache } {
  if (!facts.rootFilesFingerprint) return {};
  const files: RootFilesCache = { fingerprint: facts.rootFilesFingerprint, nodePassword: facts.nodePassword };
  if (facts.config !== undefined) files.config = facts.config;
  if (facts.tokenFileSha256 !== undefined) files.tokenFileSha256 = facts.tokenFileSha256;
  if (facts.serverTokenSha256 !== undefined) files.serverTokenSha256 = facts.serverTokenSha256;
  if (facts.datastore !== undefined) files.datastore = facts.datastore;
  return { files };
}

/** Records the versions probed this run; returns whether the file changed. */
export function updateK3sVersionCache(stateDir: string, probed: { name: string; facts: K3sFacts }[]): boolean {
  const before = readK3sVersionCache(stateDir);
  const next = { ...before };
  for (const { name, facts } of probed) {
    if (facts.binaryFingerprint && facts.installedVersion)
      next[name] = { fingerprint: facts.binaryFingerprint, version: facts.installedVersion, ...rootFilesOf(facts) };
    else delete next[name];
  }
  const canonical = (c: Record<string, K3sVersionCacheEntry>) =>
    JSON.stringify(
      Object.fromEntries(
        Object.keys(c)
          .sort()
          .map((k) => [k, { fingerprint: c[k]!.fingerprint, version: c[k]!.version, files: c[k]!.files }]),
      ),
      null,
      2,
    ) + '\n';
  const text = canonical(next);
  if (text === canonical(before)) return false;
  writePrivateFile(join(stateDir, CACHE_FILE), text);
  return true;
}
