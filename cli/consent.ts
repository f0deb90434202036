/**
 * When `up` may change anything (pure). It asks whenever stdin is a terminal — where the operator can answer, whatever
 * stderr is (`up 2>&1 | tee up.log` still asks) — and the default answer is No. With no terminal to ask on it needs
 * --yes, else it refuses before contacting anything (exit 2), as `terraform apply` does. Deleting data is consented to
 * apart from all that: --prune-data, or the cluster name typed at a terminal; --yes never implies it.
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
