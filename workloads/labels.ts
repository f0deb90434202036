/** Labels, apply phases and namespaces that rendering, applying and checking the workloads agree on. */

/** Node label the cluster step sets to "true" on nodes whose CPU is ARMv8.2-A or newer (Pi 5, not Pi 4). MongoDB needs it. */
export const ARMV82_LABEL = 'revue-pi.io/armv82';
/** On every rendered object: what made it (pruning selects on it). */
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY_VALUE = 'revue-pi';
/** On every rendered object: the apply phase it belongs to. */
export const PHASE_LABEL = 'revue-pi.io/phase';
/**
 * Apply order. `metallb` (CRDs, controller, speaker, webhook) must be ready before `metallb-config` (pools; retry
 * through the webhook race), then Traefik's config, monitoring, Revue.
 */
export const PHASES = ['metallb', 'metallb-config', 'traefik', 'monitoring', 'revue'] as const;
export type Phase = (typeof PHASES)[number];

export const METALLB_NAMESPACE = 'metallb-system';
export const MONITORING_NAMESPACE = 'monitoring';
/** The domain written in the bundled routes; replaced by inventory cluster.domain. */
export const BUNDLED_DOMAIN = 'revue.local';
export const FIXED_IP_ANNOTATION = 'metallb.io/loadBalancerIPs';
/** Namespaces the Revue namespace must not be (they hold other bundles or the cluster's own components). */
export const RESERVED_NAMESPACES = [METALLB_NAMESPACE, MONITORING_NAMESPACE, 'kube-system', 'kube-public', 'kube-node-lease', 'default'];
