import { describe, expect, it } from 'vitest';
import { consentFor, dataConsentFor, replaceServerConsentFor, replaceServerProblem, replaceServerQuestion, typedConsent } from '../../../cli/consent.js';

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

  it.each([
    // [--yes, --replace-server, terminal, what happens to s1's stale Node and etcd member]
    [false, undefined, true, 'ask'],
    [true, undefined, true, 'withheld'], // --yes alone never deletes a node
    [true, undefined, false, 'withheld'],
    [false, undefined, false, 'withheld'],
    [true, 's1', false, 'given'],
    [false, 's1', true, 'given'],
    [true, 's2', false, 'withheld'], // consent for s2 is not consent for s1
    [false, 's2', true, 'ask'],
  ] as const)('rebuilt server s1: --yes %s, --replace-server %s, terminal %s: %s', (yes, replaceServer, terminal, kind) => {
    expect(replaceServerConsentFor('s1', { yes, ...(replaceServer ? { replaceServer } : {}) }, terminal)).toBe(kind);
  });

  it('--replace-server must name a server of the inventory', () => {
    expect(replaceServerProblem(undefined, ['s1', 's2'], 'home.yaml')).toBeUndefined();
    expect(replaceServerProblem('s2', ['s1', 's2'], 'home.yaml')).toBeUndefined();
    expect(replaceServerProblem('a1', ['s1', 's2'], 'home.yaml')).toBe(
      '--replace-server a1: home.yaml lists no server named a1 (its servers: s1, s2); nothing was contacted. Name the rebuilt server as the inventory names it.',
    );
  });

  it('the question right before the deletion names the node, the member and the server it runs on', () => {
    expect(replaceServerQuestion({ node: 's1', member: 's1-0a1b2c3d', via: 's2' }, 'home')).toEqual({
      text:
        'Server s1 was wiped, and the cluster still holds its old Node s1 and its etcd member s1-0a1b2c3d, on server s2.\n' +
        'K3s lets s1 join again under its name only once they are deleted (its own data is already gone).\n' +
        'Press Enter to keep them: s1 is then not joined, and up says how to do it later.\n',
      prompt: 'To delete Node s1 and etcd member s1-0a1b2c3d on s2, type the cluster name (home):',
    });
  });
});
