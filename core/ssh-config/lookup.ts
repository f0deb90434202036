import { globMatch } from '../remote/known-hosts.js';
import type { Condition, ConfigDirective, ConfigOrigin } from './parse.js';

/**
 * What an ssh_config says for one host, as OpenSSH reads it (readconf.c): directives in file order, a Host block
 * when one of its patterns matches the name given (and no negated one does), a Match block when all its criteria
 * hold, and for each option the first value that applies wins (IdentityFile accumulates). Pure.
 */

/** A value with the line it came from. */
export interface Found<T> {
  value: T;
  origin: ConfigOrigin;
  /** The keyword as written, and the block it sits in (`Host pi-1`), for `plan --verbose`. */
  keyword: string;
  block?: string;
}

export interface HostConfig {
  hostName?: Found<string>;
  user?: Found<string>;
  port?: Found<number>;
  /** Paths with tokens and `~` expanded, in the order written. */
  identityFiles: Found<string>[];
  identitiesOnly?: Found<boolean>;
  /** As written: `[user@]host[:port]`, comma-separated hops, or `none`. */
  proxyJump?: Found<string>;
  /** Expanded paths; empty for `none`. */
  userKnownHostsFiles?: Found<string[]>;
  /** Options that apply to this host and that revue-pi does not honour. */
  notHonoured: Found<string>[];
  /** Match blocks left out because one of their criteria is not supported here. */
  skippedMatches: { origin: ConfigOrigin; criterion: string }[];
  /** Values that cannot be used (a port that is not a number, a token not supported), as sentences. */
  errors: string[];
}

export interface LookupContext {
  /** The name given: the node's `host` in the inventory (an alias, a name or an address). */
  host: string;
  /** The inventory's explicit user (like `ssh -l`): Match user and %r see it. */
  user?: string;
  /** The inventory's explicit port (like `ssh -p`), for %p. */
  port?: number;
  /** Whom Match user and %r see when nothing set a user, and %p's port: revue-pi's defaults. */
  defaultUser: string;
  defaultPort: number;
  localUser: string;
  localHostName: string;
  uid: number;
  home: string;
  env: NodeJS.ProcessEnv;
}

/** Match criteria revue-pi evaluates; a block using any other is left out with a warning. */
export const SUPPORTED_MATCH_CRITERIA = ['all', 'host', 'originalhost', 'user', 'localuser'];

/** Options that change how a connection is made and that revue-pi does not follow: each is warned about. */
export const NOT_HONOURED = [
  'proxycommand',
  'hostkeyalias',
  'certificatefile',
  'identityagent',
  'pkcs11provider',
  'securitykeyprovider',
  'canonicalizehostname',
  'globalknownhostsfile',
  'stricthostkeychecking',
  'bindaddress',
  'bindinterface',
  'connecttimeout',
];

/** OpenSSH's match_pattern_list: a matching negated pattern vetoes, else any match wins. */
export function matchPatternList(patterns: string[], text: string): boolean {
  let matched = false;
  for (const raw of patterns.flatMap((p) => p.split(','))) {
    if (raw === '') continue;
    const negated = raw.startsWith('!');
    if (globMatch((negated ? raw.slice(1) : raw).toLowerCase(), text.toLowerCase())) {
      if (negated) return false;
      matched = true;
    }
  }
  return matched;
}

function blockName(c: Condition): string {
  if (c.kind === 'host') return `Host ${c.patterns.join(' ')}`;
  return `Match ${c.criteria.map((k) => `${k.negated ? '!' : ''}${k.keyword}${k.patterns.length ? ` ${k.patterns.join(',')}` : ''}`).join(' ')}`;
}

export function lookupHost(directives: ConfigDirective[], ctx: LookupContext): HostConfig {
  const out: HostConfig = { identityFiles: [], notHonoured: [], skippedMatches: [], errors: [] };
  const seen = new Set<string>();
  const verdicts = new Map<Condition, boolean>();
  // What Match host and Match user see: HostName and User as set so far (readconf.c match_cfg_line).
  const currentHost = () => (out.hostName ? out.hostName.value : ctx.host);
  const currentUser = () => ctx.user ?? out.user?.value ?? ctx.defaultUser;

  const holds = (c: Condition): boolean => {
    let verdict = verdicts.get(c);
    if (verdict === undefined) {
      verdict = c.kind === 'host' ? matchPatternList(c.patterns, ctx.host) : matchHolds(c);
      verdicts.set(c, verdict);
    }
    return verdict;
  };
  const matchHolds = (c: Extract<Condition, { kind: 'match' }>): boolean => {
    let unsupported: string | undefined;
    for (const k of c.criteria) {
      let result: boolean;
      switch (k.keyword) {
        case 'all':
          result = true;
          break;
        case 'host':
          result = matchPatternList(k.patterns, currentHost());
          break;
        case 'originalhost':
          result = matchPatternList(k.patterns, ctx.host);
          break;
        case 'user':
          result = matchPatternList(k.patterns, currentUser());
          break;
        case 'localuser':
          result = matchPatternList(k.patterns, ctx.localUser);
          break;
        default:
          unsupported ??= k.keyword;
          continue;
      }
      if (result === k.negated) return false;
    }
    if (unsupported) {
      out.skippedMatches.push({ origin: c.origin, criterion: unsupported });
      return false;
    }
    return true;
  };

  // Paths are expanded at the end, when %h, %p and %r are known.
  const identityLines: { found: Found<string>; directive: ConfigDirective }[] = [];
  let knownHostsLine: { found: Found<string[]>; directive: ConfigDirective } | undefined;
  for (const d of directives) {
    if (!d.conditions.every(holds)) continue;
    const last = d.conditions[d.conditions.length - 1];
    const found = <T>(value: T): Found<T> => ({ value, origin: d.origin, keyword: d.written, ...(last ? { block: blockName(last) } : {}) });
    const first = d.values[0] ?? '';
    if (d.keyword === 'identityfile') {
      identityLines.push({ found: found(first), directive: d });
      continue;
    }
    if (seen.has(d.keyword)) continue;
    seen.add(d.keyword);
    switch (d.keyword) {
      case 'hostname':
        out.hostName = found(expandTokens(first, { h: ctx.host }, d, out.errors, ctx.env));
        break;
      case 'user':
        out.user = found(first);
        break;
      case 'port': {
        const port = Number(first);
        if (!/^\d+$/.test(first) || port < 1 || port > 65535)
          out.errors.push(`${d.origin.file}:${d.origin.line}: Port ${first} is not a port number (1-65535).`);
        else out.port = found(port);
        break;
      }
      case 'identitiesonly': {
        const v = first.toLowerCase();
        if (v === 'yes' || v === 'no') out.identitiesOnly = found(v === 'yes');
        else out.errors.push(`${d.origin.file}:${d.origin.line}: IdentitiesOnly ${first} must be yes or no.`);
        break;
      }
      case 'proxyjump':
        out.proxyJump = found(first);
        break;
      case 'userknownhostsfile':
        knownHostsLine = { found: found(d.values), directive: d };
        break;
      default:
        if (NOT_HONOURED.includes(d.keyword) && !['none', 'no'].includes(first.toLowerCase())) out.notHonoured.push(found(d.values.join(' ')));
    }
  }
  const tokens: Record<string, string> = {
    h: out.hostName?.value ?? ctx.host,
    n: ctx.host,
    k: ctx.host,
    p: String(ctx.port ?? out.port?.value ?? ctx.defaultPort),
    r: ctx.user ?? out.user?.value ?? ctx.defaultUser,
    u: ctx.localUser,
    d: ctx.home,
    i: String(ctx.uid),
    l: ctx.localHostName,
    L: ctx.localHostName.split('.')[0] ?? ctx.localHostName,
  };
  const path = (value: string, d: ConfigDirective) => expandTilde(expandTokens(value, tokens, d, out.errors, ctx.env), ctx.home);
  out.identityFiles = identityLines.map(({ found, directive }) => ({ ...found, value: path(found.value, directive) }));
  if (knownHostsLine) {
    const { found, directive } = knownHostsLine;
    out.userKnownHostsFiles = {
      ...found,
      value: found.value.length === 1 && found.value[0]!.toLowerCase() === 'none' ? [] : found.value.map((v) => path(v, directive)),
    };
  }
  return out;
}

function expandTilde(p: string, home: string): string {
  if (p === '~') return home;
  return p.startsWith('~/') ? `${home}/${p.slice(2)}` : p;
}

/**
 * `%h`-style tokens (those in `tokens`, and %%) and `${VAR}` from the environment, as OpenSSH expands them in
 * HostName, IdentityFile and UserKnownHostsFile. An unknown token or unset variable is an error sentence.
 */
export function expandTokens(value: string, tokens: Record<string, string>, d: ConfigDirective, errors: string[], env: NodeJS.ProcessEnv): string {
  const where = `${d.origin.file}:${d.origin.line}`;
  return value.replace(/%(.)|\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (all, token: string | undefined, name: string | undefined) => {
    if (name !== undefined) {
      const v = env[name];
      if (v === undefined) errors.push(`${where}: ${d.written} uses \${${name}}, which is not set.`);
      return v ?? all;
    }
    if (token === '%') return '%';
    const v = token !== undefined ? tokens[token] : undefined;
    if (v === undefined)
      errors.push(
        `${where}: the token %${token} in ${d.written} is not supported by revue-pi (supported: %%, ${Object.keys(tokens)
          .map((t) => `%${t}`)
          .join(', ')}).`,
      );
    return v ?? all;
  });
}
