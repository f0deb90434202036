import { describe, expect, it } from 'vitest';
import { buildDatastoreProbe, parseDatastore, parseEtcdMembers, quorum } from '../../../cluster/day-two/etcd.js';

/**
 * /db/info as K3s's infoHandler encodes etcdserverpb.Member (json tags ID, name, peerURLs, clientURLs, isLearner with
 * omitempty): three members, the last one still a learner. IDs are uint64 (JSON numbers past 2^53 lose digits in JS:
 * revue-pi reads names and hosts only).
 */
const DB_INFO = JSON.stringify({
  members: [
    { ID: 3297058396216283000, name: 'pi-1-3c1d0f2a', peerURLs: ['https://192.168.1.11:2380'], clientURLs: ['https://192.168.1.11:2379'] },
    { ID: 8150293481739112000, name: 'pi-2-9be47f10', peerURLs: ['https://192.168.1.12:2380'], clientURLs: ['https://192.168.1.12:2379'] },
    { ID: 1204417930617731300, name: 'pi-3-07aa19d4', peerURLs: ['https://[fd00::13]:2380'], clientURLs: ['https://[fd00::13]:2379'], isLearner: true },
  ],
});

describe('etcd members and datastore', () => {
  it('parses /db/info: name, peer host (IPv6 without brackets), learner or voter', () => {
    expect(parseEtcdMembers(DB_INFO)).toEqual([
      { name: 'pi-1-3c1d0f2a', host: '192.168.1.11', isLearner: false },
      { name: 'pi-2-9be47f10', host: '192.168.1.12', isLearner: false },
      { name: 'pi-3-07aa19d4', host: 'fd00::13', isLearner: true },
    ]);
  });

  it.each([
    [
      'Error from server (NotFound): the server could not find the requested resource',
      /^`k3s kubectl get --raw \/db\/info --request-timeout=15s` printed something that is not JSON: Error from server \(NotFound\)/,
    ],
    ['{"kind":"Status"}', /printed JSON with members missing where a list belongs/],
  ])('refuses what is not a member list: %s', (text, error) => {
    expect(() => parseEtcdMembers(text)).toThrow(error);
  });

  it('probes the datastore from the files K3s keeps (etcd member dir, else SQLite state.db)', () => {
    expect(buildDatastoreProbe().text).toBe(
      'if [ -d /var/lib/rancher/k3s/server/db/etcd/member ]; then echo etcd; elif [ -f /var/lib/rancher/k3s/server/db/state.db ]; then echo sqlite; else echo none; fi',
    );
    expect(['etcd\n', 'sqlite', '', 'sudo: a password is required\n'].map(parseDatastore)).toEqual(['etcd', 'sqlite', 'none', 'none']);
  });

  it.each([
    [1, 1],
    [2, 2],
    [3, 2],
    [4, 3],
    [5, 3],
  ])('quorum of %i voters is %i', (voters, needed) => {
    expect(quorum(voters)).toBe(needed);
  });
});
