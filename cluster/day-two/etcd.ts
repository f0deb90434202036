import { EtcdInfoSchema, parseKubeDocument } from '../../core/kube/index.js';
import { sh, type ShellScript } from '../../core/remote/shell.js';
/**
 * What day-two verbs read of a server's datastore (test/lab/k3s-standin/README.md, "Day-two contract"): whether it is
 * embedded etcd or SQLite, and etcd's member list. Pure: command strings and parsers.
 */

/** K3s keeps its datastore under the server's data dir: etcd in db/etcd/ (member/ once initialised), SQLite in db/state.db. */
export const ETCD_DATA_DIR = '/var/lib/rancher/k3s/server/db/etcd';
export const SQLITE_DB_PATH = '/var/lib/rancher/k3s/server/db/state.db';

export type Datastore = 'etcd' | 'sqlite' | 'none';

/** Prints `etcd`, `sqlite` or `none` (run with sudo: the server dir is 0700). */
export function buildDatastoreProbe(): ShellScript {
  return sh`if [ -d ${`${ETCD_DATA_DIR}/member`} ]; then echo etcd; elif [ -f ${SQLITE_DB_PATH} ]; then echo sqlite; else echo none; fi`;
}

export function parseDatastore(stdout: string): Datastore {
  const word = stdout.trim().split('\n').pop()?.trim();
  return word === 'etcd' || word === 'sqlite' ? word : 'none';
}

/**
 * etcd's member list, as K3s serves it on port 6443 at /db/info to local requests (auth.IsLocalOrHasRole): `k3s
 * kubectl` on a server is such a request. A SQLite server has no such route (the apiserver answers 404).
 */
export const ETCD_MEMBERS_COMMAND = sh`k3s kubectl get --raw /db/info --request-timeout=15s`;

export interface EtcdMember {
  /** `<node-name>-<8 hex>` (db/etcd/name on that server); the Node's etcd.k3s.cattle.io/node-name annotation. */
  name: string;
  /** The host of its first peer URL (the node's address). */
  host: string;
  isLearner: boolean;
}

export function parseEtcdMembers(json: string): EtcdMember[] {
  const info = parseKubeDocument(json, EtcdInfoSchema, { command: ETCD_MEMBERS_COMMAND.text, what: 'JSON' });
  return info.members.map((m) => ({ name: m.name ?? '', host: hostOf(m.peerURLs?.[0]), isLearner: m.isLearner === true }));
}

function hostOf(url: string | undefined): string {
  if (!url) return '';
  try {
    return new URL(url).hostname.replace(/^\[(.*)\]$/, '$1');
  } catch {
    return '';
  }
}

/** Members etcd needs up to answer: a majority of the voters. */
export function quorum(voters: number): number {
  return Math.floor(voters / 2) + 1;
}
