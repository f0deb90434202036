import type { Inventory, InventoryNode } from '../core/inventory/schema.js';
import type { Step } from '../core/step.js';
import { firstServerProbeSections, k3sProbeSections, parseK3sFacts, type K3sFacts, type K3sVersionCacheEntry } from './facts.js';
import { checkClusterNode, describeClusterChange, planClusterNode, type ClusterChange, type ClusterPlanContext } from './plan.js';
import { runClusterPhase, type ClusterPhaseOptions, type ClusterPhaseResult } from './phase.js';

/** What the cluster stage's probe knows of a node beforehand. */
export interface ClusterProbeTarget {
  /** The K3s version and root-only files' fingerprint read last run (k3s-versions.json). */
  cachedVersion?: K3sVersionCacheEntry;
  /** Probe as the login user: the root-only files are read (under `sudo -n`) only when their fingerprint changed. */
  withoutRoot?: boolean;
  /** The first server also reads the kubeconfig, and the node list unless another stage's section lists the nodes. */
  firstServer?: { nodesReadElsewhere: boolean };
}

/** A node's plan needs the first server and the cluster token beside its facts. */
export interface ClusterTarget extends ClusterPlanContext {
  node: InventoryNode;
  inventory: Inventory;
}

/**
 * K3s as a Step. Its apply is the whole cluster phase, not one node's: the order of the nodes is part of K3s's
 * contract (the first server alone, other servers one at a time for etcd's quorum, then the agents in parallel), so
 * cluster/phase.ts keeps it; the pipeline gives it every node and how many may work at once.
 */
export const clusterStep = {
  phase: 'cluster',
  probe: {
    sections: (target: ClusterProbeTarget) => [
      ...k3sProbeSections(target.cachedVersion, { withoutRoot: target.withoutRoot === true }),
      ...(target.firstServer ? firstServerProbeSections({ nodes: !target.firstServer.nodesReadElsewhere }) : []),
    ],
    read: (answer: Map<string, string>, target: ClusterProbeTarget) => parseK3sFacts(answer, target.cachedVersion),
  },
  check: (facts: K3sFacts, target: ClusterTarget) => checkClusterNode(facts, target.inventory, target.node),
  plan: (facts: K3sFacts, target: ClusterTarget) => planClusterNode(facts, target.inventory, target.node, target),
  describe: describeClusterChange,
  apply: (opts: ClusterPhaseOptions) => runClusterPhase(opts),
} satisfies Step<{
  probeTarget: ClusterProbeTarget;
  facts: K3sFacts;
  planTarget: ClusterTarget;
  change: ClusterChange;
  applyInput: ClusterPhaseOptions;
  applied: ClusterPhaseResult;
}>;
