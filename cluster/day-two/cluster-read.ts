import { sh } from '../../core/remote/shell.js';
import { trimOutput } from '../../core/errors.js';
import type { InventoryNode } from '../../core/inventory/schema.js';
import { buildProbeScript, parseProbeOutput } from '../../core/remote/probe.js';
import type { Transport } from '../../core/remote/transport.js';
import { CLUSTER_READ_COMMAND, parseClusterView, type ClusterView } from './cluster-view.js';
import { firstAnsweringServer } from './first-server.js';
import { ETCD_MEMBERS_COMMAND, buildDatastoreProbe, parseDatastore, parseEtcdMembers, type Datastore, type EtcdMember } from './etcd.js';

/**
 * What the day-two verbs read of a cluster before deciding, in one round trip on the first of `servers` that answers
 * over SSH and whose API answers: the nodes and pods, etcd's members and the datastore. Its transport is kept open (pushed
 * on `transports`, which the caller closes); `tried` says why each other server was passed over.
 */
export interface ClusterRead {
  via: Transport;
  viaNode: InventoryNode;
  view: ClusterView;
  datastore: Datastore;
  /** undefined: the cluster has no embedded etcd (a single SQLite server). */
  members?: EtcdMember[];
}

export async function readClusterFrom(
  servers: InventoryNode[],
  open: (node: InventoryNode) => Promise<Transport>,
  transports: Transport[],
): Promise<ClusterRead | { tried: string[] }> {
  const answered = await firstAnsweringServer(servers, open, readClusterOn, (error) =>
    error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error),
  );
  if (!('found' in answered)) return { tried: answered.tried };
  transports.push(answered.transport);
  return { via: answered.transport, viaNode: answered.node, ...answered.found };
}

/** The nodes, the datastore and (with embedded etcd) the members, read on one server; throws when its API or etcd does not answer. */
async function readClusterOn(transport: Transport): Promise<Omit<ClusterRead, 'via' | 'viaNode'>> {
  const probe = await transport.run(
    buildProbeScript([
      { name: 'cluster', script: sh`${CLUSTER_READ_COMMAND} 2>&1` },
      { name: 'etcd', script: sh`${ETCD_MEMBERS_COMMAND} 2>&1` },
      { name: 'datastore', script: buildDatastoreProbe() },
    ]),
    { sudo: true, timeoutMs: 90_000 },
  );
  const sections = parseProbeOutput(probe.stdout);
  const clusterText = sections.get('cluster') ?? '';
  if (!clusterText.trimStart().startsWith('{')) throw new Error(`its API did not answer: ${trimOutput(clusterText, 2)}`);
  const view = parseClusterView(clusterText);
  const datastore = parseDatastore(sections.get('datastore') ?? '');
  if (datastore !== 'etcd') return { view, datastore };
  const etcdText = sections.get('etcd') ?? '';
  if (!etcdText.trimStart().startsWith('{')) throw new Error(`etcd's member list could not be read (${ETCD_MEMBERS_COMMAND}): ${trimOutput(etcdText, 2)}`);
  return { view, datastore, members: parseEtcdMembers(etcdText) };
}
