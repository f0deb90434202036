import type { NodeReplacement } from '../cluster/plan.js';

/**
 * When `up` may change anything (pure). It asks whenever stdin is a terminal — where the operator can answer, whatever
 * stderr is (`up 2>&1 | tee up.log` still asks) — and the default answer is No. With no terminal to ask on it needs
 * --yes, else it refuses before contacting anything (exit 2), as `terraform apply` does. Deleting data is consented to
 * apart from all that: --prune-data, or the cluster name typed at a terminal; --yes never implies it. So is deleting a
 * node's Node, etcd member or node-password secret so it can join again (replaceNodeConsentFor, below).
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
 * Deleting what stops a node joining under its name again is consented to on its own, like data: a rebuilt first
 * server's stale Node and etcd member, a re-imaged node's Node and node-password secret (found only mid-run, when K3s
 * rejects its new password). --replace-node NAME consents for exactly that node; otherwise the cluster name typed at a
 * terminal when up asks right before deleting; --yes never implies it. Without consent nothing is deleted and that node
 * is not joined.
 */
export type ReplaceNodeConsent =
  /** --replace-node names this node. */
  | 'given'
  /** Ask on a terminal, on its own, right before deleting. */
  | 'ask'
  /** Delete nothing; the node fails, saying how to consent. */
  | 'withheld';

export function replaceNodeConsentFor(node: string, opts: { yes?: boolean; replaceNode?: string[] }, stdinIsTerminal: boolean): ReplaceNodeConsent {
  if (opts.replaceNode?.includes(node)) return 'given';
  return !opts.yes && stdinIsTerminal ? 'ask' : 'withheld';
}

/** --replace-node's values, repeated or comma-separated, as one list (commander's collector). */
export function collectNodeNames(value: string, previous: string[] = []): string[] {
  return [
    ...previous,
    ...value
      .split(',')
      .map((n) => n.trim())
      .filter((n) => n !== ''),
  ];
}

/** --replace-node must name nodes of the inventory (bad input, exit 2, before any connection); undefined when it does. */
export function replaceNodeProblem(names: string[] | undefined, nodes: string[], inventoryFile: string): string | undefined {
  const unknown = (names ?? []).filter((n) => !nodes.includes(n));
  if (unknown.length === 0) return undefined;
  return `--replace-node ${unknown.join(',')}: ${inventoryFile} lists no node named ${unknown.join(' or ')} (its nodes: ${nodes.join(', ') || 'none'}); nothing was contacted. Name the rebuilt or re-imaged node as the inventory names it.`;
}

/** What up says right before deleting, above the typed question. */
export function replaceNodeQuestion(removal: NodeReplacement, cluster: string): { text: string; prompt: string } {
  if (removal.kind === 'node-password') {
    const secret = `secret kube-system/${removal.node}.node-password.k3s`;
    return {
      text:
        `Node ${removal.node} was re-imaged: K3s rejects its new node password, because the cluster still holds its old Node ${removal.node} and its ${secret}, on server ${removal.via}.\n` +
        `K3s lets ${removal.node} join again under its name only once they are deleted (its own data is already gone).\n` +
        `Press Enter to keep them: ${removal.node} is then not joined, and up says how to do it later.\n`,
      prompt: `To delete Node ${removal.node} and ${secret} on ${removal.via}, type the cluster name (${cluster}):`,
    };
  }
  const member = removal.member ? `etcd member ${removal.member}` : 'etcd member';
  return {
    text:
      `Server ${removal.node} was wiped, and the cluster still holds its old Node ${removal.node} and its ${member}, on server ${removal.via}.\n` +
      `K3s lets ${removal.node} join again under its name only once they are deleted (its own data is already gone).\n` +
      `Press Enter to keep them: ${removal.node} is then not joined, and up says how to do it later.\n`,
    prompt: `To delete Node ${removal.node} and ${member} on ${removal.via}, type the cluster name (${cluster}):`,
  };
}

/**
 * After `up`, whether to offer `revue-pi upgrade` for the nodes on an older K3s than the inventory asks for: only at a
 * terminal, only when up itself succeeded, and never under --yes or --json (an upgrade restarts every node: unattended it
 * is run on purpose). The offer is a question; the upgrade then shows its own plan and asks again.
 */
export function upgradeOfferFor(
  report: { exitCode: number; k3s?: { behind?: { version: string; nodes: string[] } } },
  opts: { yes?: boolean; json?: boolean },
  stdinIsTerminal: boolean,
): { version: string; nodes: string[] } | undefined {
  const behind = report.k3s?.behind;
  if (!behind || report.exitCode !== 0 || opts.yes || opts.json || !stdinIsTerminal) return undefined;
  return behind;
}

export function upgradeOfferQuestion(offer: { version: string; nodes: string[] }): string {
  const them = offer.nodes.length === 1 ? `${offer.nodes[0]} runs` : `${offer.nodes.join(', ')} run`;
  return `${them} an older K3s than k3s.version (${offer.version}). Upgrade now with revue-pi upgrade (etcd snapshot first, one node at a time; it shows its plan and asks again)?`;
}
