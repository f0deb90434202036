import { z } from 'zod';

/**
 * zod schemas of the Kubernetes objects revue-pi reads from `kubectl … -o json`, holding only the fields some caller
 * reads. The API omits empty fields (omitempty) and may print null for some: every field is optional and null counts
 * as absent. Objects keep their other fields (passthrough), so an item can be handed on as it came.
 */

/** An optional field: absent and null both become undefined. */
const maybe = <T extends z.ZodTypeAny>(schema: T) => schema.nullish().transform((v): z.output<T> | undefined => v ?? undefined);

const stringMap = maybe(z.record(z.string()));
const count = maybe(z.number());
const text = maybe(z.string());

export const ObjectMetaSchema = z
  .object({
    name: maybe(z.string()),
    namespace: text,
    labels: stringMap,
    annotations: stringMap,
    generation: count,
    ownerReferences: maybe(z.array(z.object({ kind: text, name: text, controller: maybe(z.boolean()) }).passthrough())),
  })
  .passthrough();

export const ConditionSchema = z.object({ type: text, status: text, reason: text, message: text, lastHeartbeatTime: text }).passthrough();

const conditions = maybe(z.array(ConditionSchema));

/** apiVersion, kind and metadata: what every item of a List has. */
const base = <K extends z.ZodTypeAny>(kind: K) => ({ apiVersion: text, kind, metadata: maybe(ObjectMetaSchema) });

export const NodeSchema = z
  .object({
    ...base(z.literal('Node')),
    spec: maybe(
      z
        .object({
          unschedulable: maybe(z.boolean()),
          taints: maybe(z.array(z.object({ key: z.string(), value: text, effect: z.string() }).passthrough())),
        })
        .passthrough(),
    ),
    status: maybe(
      z
        .object({
          conditions,
          addresses: maybe(z.array(z.object({ type: text, address: text }).passthrough())),
          nodeInfo: maybe(z.object({ kubeletVersion: text }).passthrough()),
        })
        .passthrough(),
    ),
  })
  .passthrough();

const ContainerStatusSchema = z
  .object({
    name: text,
    ready: maybe(z.boolean()),
    restartCount: count,
    state: maybe(
      z
        .object({
          waiting: maybe(z.object({ reason: text, message: text }).passthrough()),
          terminated: maybe(z.object({ reason: text, exitCode: count }).passthrough()),
        })
        .passthrough(),
    ),
  })
  .passthrough();

export const PodSchema = z
  .object({
    ...base(z.literal('Pod')),
    spec: maybe(
      z
        .object({
          nodeName: text,
          volumes: maybe(z.array(z.object({ name: text, emptyDir: z.unknown().optional() }).passthrough())),
        })
        .passthrough(),
    ),
    status: maybe(z.object({ phase: text, conditions, containerStatuses: maybe(z.array(ContainerStatusSchema)) }).passthrough()),
  })
  .passthrough();

/** Deployment and StatefulSet share the fields read (spec.replicas and the replica counts). */
const replicaSetLike = <K extends string>(kind: K) =>
  z
    .object({
      ...base(z.literal(kind)),
      spec: maybe(z.object({ replicas: count }).passthrough()),
      status: maybe(
        z.object({ observedGeneration: count, replicas: count, updatedReplicas: count, readyReplicas: count, availableReplicas: count }).passthrough(),
      ),
    })
    .passthrough();

export const DeploymentSchema = replicaSetLike('Deployment');
export const StatefulSetSchema = replicaSetLike('StatefulSet');

export const DaemonSetSchema = z
  .object({
    ...base(z.literal('DaemonSet')),
    status: maybe(
      z
        .object({ observedGeneration: count, desiredNumberScheduled: count, updatedNumberScheduled: count, numberReady: count, numberAvailable: count })
        .passthrough(),
    ),
  })
  .passthrough();

const EnvVarSchema = z.object({ name: text, value: text }).passthrough();

export const JobSchema = z
  .object({
    ...base(z.literal('Job')),
    spec: maybe(
      z
        .object({
          template: maybe(
            z
              .object({
                spec: maybe(z.object({ containers: maybe(z.array(z.object({ name: text, env: maybe(z.array(EnvVarSchema)) }).passthrough())) }).passthrough()),
              })
              .passthrough(),
          ),
        })
        .passthrough(),
    ),
    status: maybe(z.object({ succeeded: count, failed: count, active: count, conditions }).passthrough()),
  })
  .passthrough();

export const ServiceSchema = z
  .object({
    ...base(z.literal('Service')),
    spec: maybe(z.object({ type: text, loadBalancerIP: text }).passthrough()),
    status: maybe(
      z
        .object({ loadBalancer: maybe(z.object({ ingress: maybe(z.array(z.object({ ip: text, hostname: text }).passthrough())) }).passthrough()) })
        .passthrough(),
    ),
  })
  .passthrough();

/** A Resource metric of an HPA (autoscaling/v2): spec.metrics[] has `target`, status.currentMetrics[] has `current`. */
const utilisation = maybe(z.object({ averageUtilization: count }).passthrough());
const MetricSchema = z.object({ type: text, resource: maybe(z.object({ name: text, target: utilisation, current: utilisation }).passthrough()) }).passthrough();

export const HorizontalPodAutoscalerSchema = z
  .object({
    ...base(z.literal('HorizontalPodAutoscaler')),
    spec: maybe(
      z
        .object({
          scaleTargetRef: maybe(z.object({ kind: text, name: text }).passthrough()),
          minReplicas: count,
          maxReplicas: count,
          metrics: maybe(z.array(MetricSchema)),
          targetCPUUtilizationPercentage: count,
        })
        .passthrough(),
    ),
    status: maybe(
      z
        .object({ currentReplicas: count, desiredReplicas: count, currentMetrics: maybe(z.array(MetricSchema)), currentCPUUtilizationPercentage: count })
        .passthrough(),
    ),
  })
  .passthrough();

export const IPAddressPoolSchema = z
  .object({
    ...base(z.literal('IPAddressPool')),
    spec: maybe(z.object({ addresses: maybe(z.array(z.string())), autoAssign: maybe(z.boolean()) }).passthrough()),
  })
  .passthrough();

const NodeSelectorTermSchema = z
  .object({ matchExpressions: maybe(z.array(z.object({ key: text, operator: text, values: maybe(z.array(z.string())) }).passthrough())) })
  .passthrough();

export const PersistentVolumeSchema = z
  .object({
    ...base(z.literal('PersistentVolume')),
    spec: maybe(
      z
        .object({
          claimRef: maybe(z.object({ namespace: text, name: text }).passthrough()),
          nodeAffinity: maybe(
            z.object({ required: maybe(z.object({ nodeSelectorTerms: maybe(z.array(NodeSelectorTermSchema)) }).passthrough()) }).passthrough(),
          ),
        })
        .passthrough(),
    ),
  })
  .passthrough();

export const PersistentVolumeClaimSchema = z.object({ ...base(z.literal('PersistentVolumeClaim')) }).passthrough();

export const PodDisruptionBudgetSchema = z.object({ ...base(z.literal('PodDisruptionBudget')) }).passthrough();

export const SecretSchema = z.object({ ...base(z.literal('Secret')), data: stringMap }).passthrough();

export const ConfigMapSchema = z.object({ ...base(z.literal('ConfigMap')), data: stringMap }).passthrough();

export const HelmChartSchema = z
  .object({ ...base(z.literal('HelmChart')), spec: maybe(z.object({ chart: text, version: text, repo: text, targetNamespace: text }).passthrough()) })
  .passthrough();

export const EventSchema = z
  .object({
    ...base(z.literal('Event')),
    involvedObject: maybe(z.object({ kind: text, name: text, namespace: text }).passthrough()),
    reason: text,
    message: text,
    type: text,
    count,
    lastTimestamp: text,
    eventTime: text,
  })
  .passthrough();

/** Any other kind (Namespace, Ingress, IngressRoute…): what every object has. */
export const OtherObjectSchema = z.object({ ...base(z.string()) }).passthrough();

/** The schema of each kind read by its fields; items of other kinds are checked as OtherObjectSchema. */
export const KIND_SCHEMAS = {
  Node: NodeSchema,
  Pod: PodSchema,
  Deployment: DeploymentSchema,
  StatefulSet: StatefulSetSchema,
  DaemonSet: DaemonSetSchema,
  Job: JobSchema,
  Service: ServiceSchema,
  HorizontalPodAutoscaler: HorizontalPodAutoscalerSchema,
  IPAddressPool: IPAddressPoolSchema,
  PersistentVolume: PersistentVolumeSchema,
  PersistentVolumeClaim: PersistentVolumeClaimSchema,
  PodDisruptionBudget: PodDisruptionBudgetSchema,
  Secret: SecretSchema,
  ConfigMap: ConfigMapSchema,
  HelmChart: HelmChartSchema,
  Event: EventSchema,
} as const;

export type KnownKind = keyof typeof KIND_SCHEMAS;
export type KubeKinds = { [K in KnownKind]: z.output<(typeof KIND_SCHEMAS)[K]> };

export type KubeNode = KubeKinds['Node'];
export type KubePod = KubeKinds['Pod'];
export type KubeDeployment = KubeKinds['Deployment'];
export type KubeStatefulSet = KubeKinds['StatefulSet'];
export type KubeDaemonSet = KubeKinds['DaemonSet'];
export type KubeJob = KubeKinds['Job'];
export type KubeService = KubeKinds['Service'];
export type KubeHpa = KubeKinds['HorizontalPodAutoscaler'];
export type KubeIPAddressPool = KubeKinds['IPAddressPool'];
export type KubePersistentVolume = KubeKinds['PersistentVolume'];
export type KubeSecret = KubeKinds['Secret'];
export type KubeConfigMap = KubeKinds['ConfigMap'];
export type KubeEvent = KubeKinds['Event'];
export type KubeWorkload = KubeDeployment | KubeStatefulSet | KubeDaemonSet;
export type ObjectMeta = z.output<typeof ObjectMetaSchema>;

/** An item of a kubectl List, checked by the schema of its kind. Narrow it with isKind. */
export type KubeItem = KubeKinds[KnownKind] | z.output<typeof OtherObjectSchema>;

/** What K3s serves at /db/info (`k3s kubectl get --raw /db/info`): etcd's member list. */
export const EtcdInfoSchema = z
  .object({
    members: z.array(z.object({ name: text, peerURLs: maybe(z.array(z.string())), isLearner: maybe(z.boolean()) }).passthrough()),
  })
  .passthrough();

/** The envelope `kubectl get … -o json` prints: a List (several types) or a typed list (one type). */
export const ListSchema = z.object({ kind: text, items: z.array(z.unknown()) }).passthrough();
