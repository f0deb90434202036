import { sh } from '../../core/remote/shell.js';
import { trimOutput } from '../../core/errors.js';
import type { InventoryNode } from '../../core/inventory/schema.js';
import { buildProbeScript, parseProbeOutput } from '../../core/remote/probe.js';
import type { Transport } from '../../core/remote/transport.js';
import { CLUSTER_READ_COMMAND, parseClusterView, type ClusterView } from './cluster-view.js';
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
  const tried: string[] = [];
  for (const node of servers) {
    let transport: Transport | undefined;
    try {
      transport = await open(node);
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
      let members: EtcdMember[] | undefined;
      if (datastore === 'etcd') {
        const etcdText = sections.get('etcd') ?? '';
        if (!etcdText.trimStart().startsWith('{'))
          throw new Error(`etcd's member list could not be read (${ETCD_MEMBERS_COMMAND}): ${trimOutput(etcdText, 2)}`);
        members = parseEtcdMembers(etcdText);
      }
      transports.push(transport);
      return { via: transport, viaNode: node, view, datastore, ...(members ? { members } : {}) };
    } catch (error) {
      tried.push(`${node.name}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
      await transport?.close().catch(() => undefined);
    }
  }
  return { tried };
}
