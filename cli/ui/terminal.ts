import type { Options as OraOptions, Ora } from 'ora';

/**
 * Terminal conventions every spinner and symbol follows. Colour: FORCE_COLOR decides when set (0 or false: none;
 * anything else: colour), else NO_COLOR set to anything non-empty means none (no-color.org), else colour only on
 * a terminal that is not TERM=dumb — Node's own order (tty.getColorDepth). ora's own symbols are coloured by chalk,
 * which ignores NO_COLOR, so spinners end on these symbols instead.
 */

export function colorEnabled(stream: { isTTY?: boolean } = process.stderr, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.FORCE_COLOR !== undefined) return env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false';
  if (env.NO_COLOR) return false;
  return Boolean(stream.isTTY) && env.TERM !== 'dumb';
}

const SGR = { green: [32, 39], red: [31, 39] } as const;

export function symbolFor(kind: 'success' | 'failure', colors: boolean): string {
  const [glyph, colour] = kind === 'success' ? ['✔', SGR.green] : ['✖', SGR.red];
  return colors ? `\u001b[${colour[0]}m${glyph}\u001b[${colour[1]}m` : glyph;
}

export type SpinnerFactory = (options: OraOptions) => Ora;

/** ora, with its frame coloured only when colour is on and its succeed/fail symbols ours. */
export function spinnersWithColor(ora: SpinnerFactory, colors: boolean): SpinnerFactory {
  return (options) => {
    const spinner = ora({ ...options, color: colors ? (options.color ?? 'cyan') : false });
    spinner.succeed = (text?: string) => spinner.stopAndPersist({ symbol: symbolFor('success', colors), ...(text !== undefined ? { text } : {}) });
    spinner.fail = (text?: string) => spinner.stopAndPersist({ symbol: symbolFor('failure', colors), ...(text !== undefined ? { text } : {}) });
    return spinner;
  };
}
