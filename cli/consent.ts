/**
 * When `up` may change anything (pure). It asks whenever stdin is a terminal — where the operator can answer, whatever
 * stderr is (`up 2>&1 | tee up.log` still asks) — and the default answer is No. With no terminal to ask on it needs
 * --yes, else it refuses before contacting anything (exit 2), as `terraform apply` does. Deleting data is consented to
 * apart from all that: --prune-data, or the cluster name typed at a terminal; --yes never implies it. So is deleting a
 * rebuilt server's stale Node and etcd member (replaceServerConsentFor, below).
 */
export type Consent =
  /** Show the plan and ask (default No). */
  | { kind: 'ask' }
  /** --yes: go ahead without asking. */
  | { kind: 'given' }
  /** No terminal and no --yes: refuse, with why. */
  | { kind: 'refuse'; message: string };

export function consentFor(opts: { yes?: boolean }, stdinIsTerminal: boolean): Consent {
  if (opts.yes) return { kind: 'given' };
  if (stdinIsTerminal) return { kind: 'ask' };
  return {
    kind: 'refuse',
    message:
      'revue-pi up changes the nodes and asks first, but its standard input is not a terminal, so it cannot ask: nothing was contacted. ' +
      'Run it in a terminal to see the plan and answer, or pass --yes to apply without asking (revue-pi plan shows what would change).',
  };
}

export type DataConsent =
  /** --prune-data: delete data-holding objects the inventory no longer deploys. */
  | 'given'
  /** Ask on a terminal, on its own: the cluster name typed deletes them. */
  | 'ask'
  /** Keep them, and say how to delete them. */
  | 'keep';

/** With --yes nothing is asked, so data is kept unless --prune-data says otherwise. */
export function dataConsentFor(opts: { yes?: boolean; pruneData?: boolean }, stdinIsTerminal: boolean): DataConsent {
  if (opts.pruneData) return 'given';
  return !opts.yes && stdinIsTerminal ? 'ask' : 'keep';
}

/** Only the exact cluster name consents; anything else (Enter included) keeps the data. */
export function typedConsent(answer: string, cluster: string): boolean {
  return answer.trim() === cluster;
}

/**
 * Deleting a rebuilt server's stale Node and etcd member (so it can join under its name again) is consented to on its
 * own, like data: --replace-server NAME for exactly that node, or the cluster name typed at a terminal when up asks
 * right before deleting; --yes never implies it. Without consent nothing is deleted and that server is not joined.
 */
export type ReplaceServerConsent =
  /** --replace-server names this node. */
  | 'given'
  /** Ask on a terminal, on its own, right before deleting. */
  | 'ask'
  /** Delete nothing; the node fails, saying how to consent. */
  | 'withheld';

export function replaceServerConsentFor(node: string, opts: { yes?: boolean; replaceServer?: string }, stdinIsTerminal: boolean): ReplaceServerConsent {
  if (opts.replaceServer === node) return 'given';
  return !opts.yes && stdinIsTerminal ? 'ask' : 'withheld';
}

/** --replace-server must name a server of the inventory (bad input, exit 2, before any connection); undefined when it does. */
export function replaceServerProblem(name: string | undefined, servers: string[], inventoryFile: string): string | undefined {
  if (name === undefined || servers.includes(name)) return undefined;
  return `--replace-server ${name}: ${inventoryFile} lists no server named ${name} (its servers: ${servers.join(', ') || 'none'}); nothing was contacted. Name the rebuilt server as the inventory names it.`;
}

/** What up says right before deleting a rebuilt server's stale Node and etcd member, above the typed question. */
export function replaceServerQuestion(removal: { node: string; member?: string; via: string }, cluster: string): { text: string; prompt: string } {
  const member = removal.member ? `etcd member ${removal.member}` : 'etcd member';
  return {
    text:
      `Server ${removal.node} was wiped, and the cluster still holds its old Node ${removal.node} and its ${member}, on server ${removal.via}.\n` +
      `K3s lets ${removal.node} join again under its name only once they are deleted (its own data is already gone).\n` +
      `Press Enter to keep them: ${removal.node} is then not joined, and up says how to do it later.\n`,
    prompt: `To delete Node ${removal.node} and ${member} on ${removal.via}, type the cluster name (${cluster}):`,
  };
}
