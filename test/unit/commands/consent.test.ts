import { describe, expect, it } from 'vitest';
import { consentFor, dataConsentFor, typedConsent } from '../../../cli/consent.js';

describe('when up may change anything', () => {
  it.each([
    // [--yes, stdin is a terminal, what up does]
    [false, true, 'ask'],
    [true, true, 'given'],
    [true, false, 'given'],
    [false, false, 'refuse'],
  ] as const)('--yes %s, stdin a terminal %s: %s', (yes, terminal, kind) => {
    expect(consentFor({ yes }, terminal).kind).toBe(kind);
  });

  it('refuses without a terminal and without --yes, saying why and what to do', () => {
    expect(consentFor({}, false)).toEqual({
      kind: 'refuse',
      message:
        'revue-pi up changes the nodes and asks first, but its standard input is not a terminal, so it cannot ask: nothing was contacted. ' +
        'Run it in a terminal to see the plan and answer, or pass --yes to apply without asking (revue-pi plan shows what would change).',
    });
  });

  it.each([
    // [--yes, --prune-data, terminal, what happens to data no longer deployed]
    [false, false, true, 'ask'],
    [true, false, true, 'keep'], // --yes alone never deletes data
    [true, false, false, 'keep'],
    [false, false, false, 'keep'],
    [true, true, false, 'given'],
    [false, true, true, 'given'],
  ] as const)('data: --yes %s, --prune-data %s, terminal %s: %s', (yes, pruneData, terminal, kind) => {
    expect(dataConsentFor({ yes, pruneData }, terminal)).toBe(kind);
  });

  it.each([
    ['home', true],
    ['  home ', true],
    ['', false],
    ['y', false],
    ['yes', false],
    ['Home', false],
  ])('typing %j for cluster home consents: %s', (answer, yes) => {
    expect(typedConsent(answer, 'home')).toBe(yes);
  });
});
