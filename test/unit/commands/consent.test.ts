import { describe, expect, it } from 'vitest';
import {
  consentFor,
  dataConsentFor,
  collectNodeNames,
  replaceNodeConsentFor,
  replaceNodeProblem,
  replaceNodeQuestion,
  typedConsent,
  upgradeOfferFor,
  upgradeOfferQuestion,
} from '../../../cli/consent.js';

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
    // [--yes, --replace-node, terminal, what happens to what stops s1 joining again (stale member, node-password secret)]
    [false, undefined, true, 'ask'],
    [true, undefined, true, 'withheld'], // --yes alone never deletes a node
    [true, undefined, false, 'withheld'],
    [false, undefined, false, 'withheld'],
    [true, ['s1'], false, 'given'],
    [false, ['s1'], true, 'given'],
    [true, ['a1', 's1'], false, 'given'],
    [true, ['s2'], false, 'withheld'], // consent for s2 is not consent for s1
    [false, ['s2'], true, 'ask'],
  ] as const)('node s1: --yes %s, --replace-node %j, terminal %s: %s', (yes, replaceNode, terminal, kind) => {
    expect(replaceNodeConsentFor('s1', { yes, ...(replaceNode ? { replaceNode: [...replaceNode] } : {}) }, terminal)).toBe(kind);
  });

  it('--replace-node is repeatable and comma-separated', () => {
    expect(collectNodeNames('a1')).toEqual(['a1']);
    expect(collectNodeNames('a2, s1,', ['a1'])).toEqual(['a1', 'a2', 's1']);
  });

  it('--replace-node must name nodes of the inventory', () => {
    expect(replaceNodeProblem(undefined, ['s1', 'a1'], 'home.yaml')).toBeUndefined();
    expect(replaceNodeProblem(['a1', 's1'], ['s1', 'a1'], 'home.yaml')).toBeUndefined();
    expect(replaceNodeProblem(['a1', 'x9', 'x8'], ['s1', 'a1'], 'home.yaml')).toBe(
      '--replace-node x9,x8: home.yaml lists no node named x9 or x8 (its nodes: s1, a1); nothing was contacted. Name the rebuilt or re-imaged node as the inventory names it.',
    );
  });

  it('the question right before deleting a stale member names the node, the member and the server it runs on', () => {
    expect(replaceNodeQuestion({ kind: 'stale-member', node: 's1', member: 's1-0a1b2c3d', via: 's2' }, 'home')).toEqual({
      text:
        'Server s1 was wiped, and the cluster still holds its old Node s1 and its etcd member s1-0a1b2c3d, on server s2.\n' +
        'K3s lets s1 join again under its name only once they are deleted (its own data is already gone).\n' +
        'Press Enter to keep them: s1 is then not joined, and up says how to do it later.\n',
      prompt: 'To delete Node s1 and etcd member s1-0a1b2c3d on s2, type the cluster name (home):',
    });
  });

  it("the question right before deleting a re-imaged node's password secret names the Node, the secret and the server", () => {
    expect(replaceNodeQuestion({ kind: 'node-password', node: 'a1', via: 's1' }, 'home')).toEqual({
      text:
        'Node a1 was re-imaged: K3s rejects its new node password, because the cluster still holds its old Node a1 and its secret kube-system/a1.node-password.k3s, on server s1.\n' +
        'K3s lets a1 join again under its name only once they are deleted (its own data is already gone).\n' +
        'Press Enter to keep them: a1 is then not joined, and up says how to do it later.\n',
      prompt: 'To delete Node a1 and secret kube-system/a1.node-password.k3s on s1, type the cluster name (home):',
    });
  });
});

describe('after up: offering revue-pi upgrade for nodes behind k3s.version', () => {
  const behind = { version: 'v1.36.4+k3s1', nodes: ['pi-1', 'pi-3'] };
  const ok = { exitCode: 0, k3s: { behind } };

  it('offered only at a terminal, after a successful up, without --yes or --json', () => {
    expect(upgradeOfferFor(ok, {}, true)).toEqual(behind);
    expect(upgradeOfferFor(ok, {}, false)).toBeUndefined();
    expect(upgradeOfferFor(ok, { yes: true }, true)).toBeUndefined();
    expect(upgradeOfferFor(ok, { json: true }, true)).toBeUndefined();
    expect(upgradeOfferFor({ ...ok, exitCode: 1 }, {}, true)).toBeUndefined();
    expect(upgradeOfferFor({ exitCode: 0, k3s: {} }, {}, true)).toBeUndefined();
  });

  it('asks naming the nodes and the version, and says the upgrade asks again', () => {
    expect(upgradeOfferQuestion(behind)).toBe(
      'pi-1, pi-3 run an older K3s than k3s.version (v1.36.4+k3s1). Upgrade now with revue-pi upgrade (etcd snapshot first, one node at a time; it shows its plan and asks again)?',
    );
    expect(upgradeOfferQuestion({ version: 'v1.36.4+k3s1', nodes: ['pi-2'] })).toMatch(/^pi-2 runs an older K3s/);
  });
});
