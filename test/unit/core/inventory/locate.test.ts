import { describe, expect, it } from 'vitest';
import { loadLocated } from '../../../../core/inventory/locate.js';
import { didYouMean } from '../../../../core/inventory/messages.js';
import { fieldLabel, formatPath, parsePath, type PathSegment } from '../../../../core/inventory/path.js';

describe('loadLocated', () => {
  const text = [
    '# comment first', //                       1
    'cluster:', //                              2
    '  name: x', //                             3
    '  empty:', //                              4
    'nodes:', //                                5
    '  - name: a', //                           6
    '    host: 10.0.0.1 # trailing comment', // 7
    '  -', //                                   8
    '  - ', //                                  9
    '    # a comment before the mapping', //   10
    '    name: b', //                          11
    '    labels: {zone: "1", rack: 2}', //    12
    '    taints:', //                          13
    '    - a=b:NoSchedule', //                 14
    '    - c=d:NoExecute', //                  15
    'base: &base', //                          16
    '  port: 22', //                           17
    'merged:', //                              18
    '  <<: *base', //                          19
    '  user: pi', //                           20
    '? explicit', //                           21
    ': value', //                              22
    'a: b', //                                 23
    'b: a', //                                 24
  ].join('\n');
  const doc = loadLocated(text);

  it.each<[PathSegment[], 'key' | 'value', string]>([
    [[], 'value', '2:1'],
    [['cluster'], 'key', '2:1'],
    [['cluster'], 'value', '3:3'],
    [['cluster', 'name'], 'value', '3:9'],
    [['cluster', 'name'], 'key', '3:3'],
    [['cluster', 'empty'], 'value', '4:3'], // no value: the key
    [['cluster', 'missing'], 'value', '3:3'], // not there: the mapping that would hold it
    [['nodes', 0], 'value', '6:5'],
    [['nodes', 0, 'host'], 'value', '7:11'],
    [['nodes', 1], 'value', '6:3'], // an empty item has no node of its own: the list
    [['nodes', 2, 'name'], 'value', '11:11'],
    [['nodes', 2], 'value', '11:5'],
    [['nodes', 2, 'labels', 'rack'], 'value', '12:31'],
    [['nodes', 2, 'labels', 'rack'], 'key', '12:25'],
    [['nodes', 2, 'taints', 1], 'value', '15:7'],
    [['nodes', 2, 'taints', 7], 'value', '14:5'],
    [['nodes', 9, 'name'], 'value', '6:3'],
    [['merged', 'user'], 'value', '20:9'],
    [['merged', 'port'], 'value', '19:3'], // came from the merge: the mapping
    [['explicit'], 'value', '22:3'],
    [['a'], 'value', '23:4'],
    [['b'], 'value', '24:4'], // a key equal to an earlier value is still found as the key
    [['b'], 'key', '24:1'],
  ])('%j (%s) → %s', (path, which, where) => {
    const { line, column } = doc.locate(path, which);
    expect(`${line}:${column}`).toBe(where);
  });

  it('returns what js-yaml parses', () => {
    expect(doc.value).toMatchObject({ cluster: { name: 'x', empty: null }, merged: { port: 22, user: 'pi' }, explicit: 'value' });
  });

  it('places everything at 1:1 in an empty document', () => {
    expect(loadLocated('').locate(['x'])).toEqual({ line: 1, column: 1 });
  });
});

describe('field paths', () => {
  it.each<[PathSegment[], string, string]>([
    [['nodes', 2, 'host'], 'nodes[2].host', 'host'],
    [['network', 'metallb', 'pools', 0, 'addresses', 1], 'network.metallb.pools[0].addresses[1]', 'addresses[1]'],
    [['nodes', 0, 'labels', 'example.com/zone'], 'nodes[0].labels["example.com/zone"]', '"example.com/zone"'],
    [['nodes', 0, 'taints', 1], 'nodes[0].taints[1]', 'taints[1]'],
    [['k3s'], 'k3s', 'k3s'],
    [[], '', 'the inventory'],
  ])('%j ⇄ %s', (segments, text, label) => {
    expect(formatPath(segments)).toBe(text);
    expect(parsePath(text)).toEqual(segments);
    expect(fieldLabel(segments)).toBe(label);
  });
});

describe('didYouMean', () => {
  const node = ['name', 'host', 'role', 'ssh', 'labels', 'taints', 'wifiInterface'];
  const ssh = ['user', 'port', 'keyPath', 'keyPassphraseEnv', 'useAgent', 'passwordEnv', 'sudoPasswordEnv'];
  it.each<[string, string[], string | undefined]>([
    ['hostname', node, 'host'],
    ['ip', node, 'host'],
    ['rol', node, 'role'],
    ['Role', node, 'role'],
    ['taint', node, 'taints'],
    ['wifi', node, undefined],
    ['nodeLabels', node, 'labels'],
    ['username', ssh, 'user'],
    ['identityFile', ssh, 'keyPath'],
    ['sudoPassword', ssh, 'sudoPasswordEnv'],
    ['passwordENV', ssh, 'passwordEnv'],
    ['hostname', ssh, undefined], // host is not allowed there
    ['colour', ssh, undefined],
  ])('%s among %j → %s', (key, allowed, expected) => {
    expect(didYouMean(key, allowed)).toBe(expected);
  });
});
