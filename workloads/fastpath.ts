import { K3S_BINARY_PATH, K3S_KUBECONFIG_PATH } from '../core/k3s-paths.js';
import type { ProbeSection } from '../core/remote/probe.js';
import { joinShell, sh, type ShellScript } from '../core/remote/shell.js';
import { buildKubectlGetCommand, isKind, ofKind, parseKubeLists, type KubeItem } from '../core/kube/index.js';
import { objectRefsOf, resourceOf } from './apply.js';
import { APPLIED_RECORD, isAppliedRecord, parseAppliedRecord, phaseHashes, type AppliedRecord } from './applied-record.js';
import { nodeLabelsOf, planNodeLabels } from './label-plan.js';
import { jobInstallsFor } from './monitoring/contract.js';
import { objectKey, planPrune, refOf, splitPrune, type ObjectRef } from './prune.js';
import { inWaitTarget, notReadyOf, waitTargetOf, type NotReady, type WaitTarget } from './readiness.js';
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE, PHASES, objectsOfPhase, type K8sObject } from './render.js';

/**
 * The no-op fast path of the workloads phase, pure parts. After a fully successful `up` (every phase applied and
 * ready, pruning done) revue-pi records what it applied in a ConfigMap, kube-system/revue-pi-applied: per phase the
 * sha256 of the objects it applied (phaseHashes), its own version and the applied objects' names. The next
 * `up`/`plan` first runs ONE command (buildFastCheckCommand) and decides with decideFastPath: when the record's
 * hashes equal the rendered phases', the live managed objects are exactly the rendered ones (nothing deleted by
 * hand, nothing to prune), the node labels are right and every workload is ready (helm-install Jobs succeeded),
 * every phase is `unchanged` and nothing is applied or waited for. Anything else falls back to the full path.
 * The record itself (made, written, read back) is applied-record.ts.
 *
 * What it does not see: a field of an object edited by hand (kubectl edit/patch) — the object is still there, so
 * the fast path is taken and the edit stays. `up --reapply` (WorkloadsPhaseOptions.reapply) skips the fast path.
 *
 * Secrets: the hashes cover the whole phase YAML, Secrets' data included. A sha256 of YAML holding 32+ random bytes
 * reveals nothing about them, and a changed secret (e.g. a restored state file) changes the hash, so it is applied.
 * The record itself holds no secret value.
 */

/**
 * Workload kinds and Jobs, for readiness: listed cluster-wide without a selector (charts' workloads carry no label).
 * Services ride along for the address MetalLB gave Traefik, so the fast path needs no further kubectl.
 */
const READINESS_KINDS = ['nodes', 'deployments.apps', 'statefulsets.apps', 'daemonsets.apps', 'jobs.batch', 'services'];

/**
 * The fast path's single round trip: the managed objects of the rendered kinds plus the record (one List, label
 * selector), then the nodes, workloads and Jobs (a second List). The two kubectl run at once (each costs a Pi a good
 * part of a second), into root-only files under /run, printed in that order only when both succeeded. A kind the
 * cluster does not serve (a CRD gone) makes it fail: then the full path runs.
 *
 * In two parts, so a longer script can start both kubectl first and collect them last (fastCheckProbeSection):
 * `start` puts them in the background of the current shell, `collect` waits for them and prints.
 */
export function buildFastCheckParts(objects: K8sObject[]): { start: ShellScript; collect: ShellScript } {
  // Data kept by an earlier run (splitPrune) is of these kinds whatever is rendered now: listed so a re-run sees it.
  const dataKinds = [
    'namespace',
    'persistentvolumeclaim',
    'secret',
    ...(objects.some((o) => o.apiVersion.startsWith('helm.cattle.io/')) ? ['helmchart.helm.cattle.io'] : []),
  ];
  const resources = [...new Set(['configmap', ...dataKinds, ...objects.map((o) => resourceOf(o.apiVersion, o.kind))])].sort();
  return {
    start: joinShell([
      sh`fc=/run/revue-pi-fast-check.$$`,
      sh`(umask 077; exec ${buildKubectlGetCommand({ resources, allNamespaces: true, selector: `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}` })} >$fc.1) & fc_managed=$!`,
      sh`(umask 077; exec ${buildKubectlGetCommand({ resources: READINESS_KINDS, allNamespaces: true })} >$fc.2) & fc_cluster=$!`,
    ]),
    collect: sh`wait $fc_managed; managed=$?
wait $fc_cluster; cluster=$?
if [ $managed -eq 0 ] && [ $cluster -eq 0 ]; then cat $fc.1 $fc.2; fi
rm -f $fc.1 $fc.2
[ $managed -eq 0 ] && [ $cluster -eq 0 ]`,
  };
}

/** The fast check as one command of its own (in a subshell, so its variables stay there). */
export function buildFastCheckCommand(objects: K8sObject[]): ShellScript {
  const { start, collect } = buildFastCheckParts(objects);
  return sh`(\n${start}\n${collect}\n)\n`;
}

/**
 * The fast check as a section of the first server's probe, so that a converged re-run needs no round trip of its own
 * for it: both kubectl start before the probe's other sections and are collected in this one, so they run while the
 * node's facts are read (nothing runs where K3s is not installed). `command` is the same check as one command: the
 * workloads phase uses the probed output only if it would have run exactly that.
 */
export function fastCheckProbeSection(objects: K8sObject[]): ProbeSection & { command: ShellScript } {
  const { start, collect } = buildFastCheckParts(objects);
  return {
    name: 'workloads_fast_check',
    start: sh`if [ -x ${K3S_BINARY_PATH} ] && [ -f ${K3S_KUBECONFIG_PATH} ]; then\n${start}\nfi`,
    script: sh`[ -n "\${fc_managed:-}" ] && {\n${collect}\n}`,
    command: buildFastCheckCommand(objects),
  };
}

/** What the fast check printed, as its two Lists (managed objects; nodes, workloads, Jobs and Services). */
function fastCheckLists(output: string): [KubeItem[], KubeItem[]] | { error: string } {
  let docs: KubeItem[][];
  try {
    docs = parseKubeLists(output, { command: 'k3s kubectl get … (the fast check)' });
  } catch (error) {
    return { error: `kubectl did not print the expected lists: ${error instanceof Error ? error.message : String(error)}` };
  }
  if (docs.length !== 2) return { error: `kubectl printed ${docs.length} lists instead of 2` };
  return docs as [KubeItem[], KubeItem[]];
}

/** The Node items of the fast check's second list, as `kubectl get nodes -o json` prints them; undefined if unreadable. */
export function nodesFromFastCheck(output: string): string | undefined {
  const lists = fastCheckLists(output);
  if ('error' in lists) return undefined;
  return JSON.stringify({ kind: 'List', items: ofKind(lists[1], 'Node') });
}
export interface FastPathInput {
  /** The render (with the real secrets), as the full path would apply it. */
  objects: K8sObject[];
  version: string;
  /** The node labels the phase sets (armLabel per node). */
  desiredLabels: { node: string; labels: Record<string, string> }[];
  /** What buildFastCheckCommand printed. */
  output: string;
  /** up --prune-data: data kept by earlier runs is to be deleted, so a cluster still holding some is not as wanted. */
  pruneData?: boolean;
}

export type FastPathDecision =
  | {
      take: true;
      record: AppliedRecord;
      missingNodes: string[];
      /** kube-system/traefik's load-balancer address, if it has one. */
      traefikAddress?: string;
      /** Objects holding data that earlier runs kept when the inventory stopped deploying them (splitPrune). */
      keptData: ObjectRef[];
    }
  /** recordSeen: whether the record is in the cluster (absent: unknown, the output could not be read). */
  | { take: false; reason: string; recordSeen?: boolean };

/**
 * What a run would remove, read from the fast check's output (its first list: the managed objects): planPrune against
 * the render. Undefined when the output is not the fast check's. For the plan `up` shows before asking.
 */
export function staleFromFastCheck(output: string, objects: K8sObject[]): ObjectRef[] | undefined {
  const lists = fastCheckLists(output);
  if ('error' in lists) return undefined;
  return planPrune(
    objectRefsOf(lists[0]).filter((r) => !isAppliedRecord(r)),
    objects,
  );
}

/**
 * Whether the cluster is exactly what the last full apply left and the render has not changed since; if not, why
 * (one sentence for the log). Pure: everything comes from the fast check's output.
 */
export function decideFastPath(input: FastPathInput): FastPathDecision {
  const lists = fastCheckLists(input.output);
  if ('error' in lists) return { take: false, reason: lists.error };
  const [managedItems, cluster] = lists;
  const managed = objectRefsOf(managedItems);

  const recordItem = ofKind(managedItems, 'ConfigMap').find((i) => isAppliedRecord(objectRefsOf([i])[0]!));
  const no = (reason: string): FastPathDecision => ({ take: false, reason, recordSeen: recordItem !== undefined });
  if (!recordItem) return no('no record of a previous complete apply');
  const record = parseAppliedRecord(recordItem);
  if (!record) return no(`the record ${APPLIED_RECORD.namespace}/${APPLIED_RECORD.name} is malformed`);
  if (record.version !== input.version) return no(`revue-pi changed since the last apply (${record.version} → ${input.version})`);

  const hashes = phaseHashes(input.objects);
  for (const phase of PHASES) {
    if (hashes[phase] === record.phases[phase]) continue;
    if (hashes[phase] === undefined) return no(`the ${phase} phase is no longer rendered`);
    if (record.phases[phase] === undefined) return no(`the ${phase} phase was not applied before`);
    return no(`the ${phase} manifests differ from the last apply`);
  }

  const wanted = new Set(input.objects.map((o) => objectKey(refOf(o))));
  const live = new Set(managed.filter((r) => !isAppliedRecord(r)).map(objectKey));
  const missing = [...wanted].filter((k) => !live.has(k)).sort();
  if (missing.length > 0)
    return no(`${missing.length} object(s) missing from the cluster (${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', …' : ''})`);
  // What is no longer rendered: removals mean work; data kept by an earlier run (no consent to delete it) does not.
  const { remove, data } = splitPrune(
    planPrune(
      managed.filter((r) => !isAppliedRecord(r)),
      input.objects,
    ),
  );
  const extra = remove.map(objectKey);
  if (extra.length > 0) return no(`${extra.length} object(s) to remove (${extra.slice(0, 3).join(', ')}${extra.length > 3 ? ', …' : ''})`);
  if (data.length > 0 && input.pruneData) return no(`${data.length} object(s) holding data to delete (--prune-data)`);

  const { changes, missing: missingNodes } = planNodeLabels(input.desiredLabels, nodeLabelsOf(cluster));
  if (changes.length > 0) return no(`node ${changes[0]!.node} needs the label ${changes[0]!.key}=${changes[0]!.value}`);

  const notReady: NotReady[] = [];
  for (const phase of PHASES) {
    const list = objectsOfPhase(input.objects, phase);
    if (list.length === 0) continue;
    const target = waitTargetOf(phase, list);
    notReady.push(...notReadyOf(itemsOf(cluster, target), target));
  }
  if (notReady.length > 0)
    return no(
      `not everything is ready (${notReady
        .slice(0, 3)
        .map((n) => `${n.kind} ${n.namespace ? `${n.namespace}/` : ''}${n.name}: ${n.reason}`)
        .join('; ')})`,
    );
  const traefik = ofKind(cluster, 'Service').find((i) => i.metadata?.namespace === 'kube-system' && i.metadata?.name === 'traefik');
  const traefikAddress = traefik?.status?.loadBalancer?.ingress?.find((i) => i.ip)?.ip;
  return { take: true, record, missingNodes, ...(traefikAddress ? { traefikAddress } : {}), keptData: data };
}

/** The items of the cluster-wide list a wait target names (what buildReadinessCommand would have listed). */
function itemsOf(cluster: KubeItem[], target: WaitTarget): KubeItem[] {
  const workloadKinds = ['Deployment', 'StatefulSet', 'DaemonSet'];
  const charts = target.charts ?? [];
  const releaseNamespaces = new Set(charts.map((c) => jobInstallsFor(c).targetNamespace));
  const jobNamespaces = new Set(charts.map((c) => c.metadata.namespace ?? 'default'));
  return cluster.filter((i) =>
    workloadKinds.includes(i.kind)
      ? inWaitTarget(i, target.workloads) || releaseNamespaces.has(i.metadata?.namespace ?? '')
      : isKind(i, 'Job') && jobNamespaces.has(i.metadata?.namespace ?? ''),
  );
}
