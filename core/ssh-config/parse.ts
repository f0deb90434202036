import SSHConfig, { LineType, type Directive, type Line, type Match } from 'ssh-config';

/**
 * An ssh_config file as revue-pi reads it: the npm `ssh-config` parser turns the text into its tree, and this
 * flattens the tree into directives in file order, each with the file and line it came from and the Host or
 * Match block it sits in. Pure; load.ts reads the files and expands Include.
 */

/** Where a directive was written: shown by `plan --verbose` and in every warning. */
export interface ConfigOrigin {
  file: string;
  line: number;
}

/** A Match criterion: `host a,b`, `!user x`, `all`. */
export interface MatchCriterion {
  keyword: string;
  negated: boolean;
  /** The pattern list; empty for `all`, `canonical`, `final`. */
  patterns: string[];
}

export type Condition = { kind: 'host'; patterns: string[]; origin: ConfigOrigin } | { kind: 'match'; criteria: MatchCriterion[]; origin: ConfigOrigin };

export interface ConfigDirective {
  /** Lower case, as OpenSSH compares keywords. */
  keyword: string;
  /** As written (for messages). */
  written: string;
  values: string[];
  origin: ConfigOrigin;
  /**
   * The Host or Match blocks it is in, all of which must match: none at the top of the main file; an included
   * file's directives carry the block of the Include line too.
   */
  conditions: Condition[];
}

export class SshConfigSyntaxError extends Error {
  constructor(
    readonly file: string,
    readonly detail: string,
  ) {
    super(`${file}: ${detail}`);
  }
}

function valuesOf(d: Directive): string[] {
  return typeof d.value === 'string' ? [d.value] : d.value.map((v) => v.val);
}

function count(text: string, char: string): number {
  let n = 0;
  for (const c of text) if (c === char) n++;
  return n;
}

/** The text's directives in order. Throws SshConfigSyntaxError when the parser refuses the text. */
export function parseSshConfig(text: string, file: string): ConfigDirective[] {
  let tree: SSHConfig;
  try {
    tree = SSHConfig.parse(text);
  } catch (err) {
    throw new SshConfigSyntaxError(file, (err as Error).message);
  }
  const out: ConfigDirective[] = [];
  // The parser keeps every newline in the `before`/`after` of the lines around it: counting them gives line numbers.
  let line = 1;
  let condition: Condition | undefined;
  const visit = (node: Line, inSection: boolean) => {
    line += count(node.before, '\n');
    const here = line;
    line += count(node.after, '\n');
    if (node.type !== LineType.DIRECTIVE || !node.param) return;
    const keyword = node.param.toLowerCase();
    const origin = { file, line: here };
    if (keyword === 'host' && !inSection) {
      condition = { kind: 'host', patterns: valuesOf(node), origin };
    } else if (keyword === 'match' && !inSection) {
      condition = { kind: 'match', criteria: matchCriteria(node as Match), origin };
    } else {
      out.push({ keyword, written: node.param, values: valuesOf(node), origin, conditions: condition ? [condition] : [] });
    }
    if ('config' in node && node.config) for (const child of node.config) visit(child, true);
  };
  for (const node of tree) visit(node, false);
  return out;
}

function matchCriteria(node: Match): MatchCriterion[] {
  return Object.entries(node.criteria ?? {}).map(([raw, value]) => {
    const negated = raw.startsWith('!');
    const keyword = (negated ? raw.slice(1) : raw).toLowerCase();
    const text = typeof value === 'string' ? value : value.map((v) => v.val).join(' ');
    return { keyword, negated, patterns: text === '' ? [] : text.split(',') };
  });
}
