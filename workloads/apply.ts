import { joinShell, sh, type ShellScript } from '../core/remote/shell.js';
import { chartProblem, chartsReadiness, jobReason, parseLiveJob, parseLiveWorkload, releaseWorkloadMissingProblem } from './charts.js';
import { jobInstallsFor } from './monitoring/contract.js';
import { type ObjectRef } from './prune.js';
import { ARMV82_LABEL, type K8sObject, MANAGED_BY_LABEL, MANAGED_BY_VALUE, PHASE_LABEL, type Phase } from './render.js';
import { BEARER_TOKEN_NAMES, GRAFANA_ADMIN, MONGO_SERVICES, SECRET_NAMES } from './secrets.js';

/**
 * Pure parts of applying the workloads: the `k3s kubectl …` commands run on the first server (through the transport,
 * sudo — the laptop never talks to the API) and the parsers of what they print. workloads/phase.ts and the files it calls run them.
 * Works with real kubectl and with the lab's stand-in (test/lab/k3s-standin/), which prints the same lines.
 */

/** Root-only folder on the first server for the YAML of one apply (it holds Secrets; files 0600, removed after). */
export const REMOTE_APPLY_DIR = '/var/lib/rancher/revue-pi';

export function remoteApplyPath(phase: Phase): string {
  return `${REMOTE_APPLY_DIR}/apply-${phase}.yaml`;
}

/** Applies one uploaded file and removes it whatever the outcome (it holds Secrets). */
export function buildApplyCommand(remotePath: string): ShellScript {
  return sh`k3s kubectl apply -f ${remotePath}
rc=$?
rm -f ${remotePath}
exit $rc
`;
}

export function buildRemoveFileCommand(remotePath: string): ShellScript {
  return sh`rm -f ${remotePath}`;
}

export type ApplyAction = 'created' | 'configured' | 'unchanged';

export interface ApplyOutcome {
  /** `kind.group/name` as kubectl prints it. */
  object: string;
  action: ApplyAction;
}

/** `kubectl apply` lines (`deployment.apps/x created|configured|unchanged`); other lines are ignored. */
export function parseApplyOutput(stdout: string): ApplyOutcome[] {
  const out: ApplyOutcome[] = [];
  for (const line of stdout.split('\n')) {
    const m = /^(\S+\/\S+) (created|configured|unchanged)$/.exec(line.trim());
    if (m) out.push({ object: m[1]!, action: m[2] as ApplyAction });
  }
  return out;
}

export interface ApplyCounts {
  created: number;
  configured: number;
  unchanged: number;
}

export function countApply(outcomes: ApplyOutcome[]): ApplyCounts {
  const counts: ApplyCounts = { created: 0, configured: 0, unchanged: 0 };
  for (const o of outcomes) counts[o.action]++;
  return counts;
}

/**
 * MetalLB's validating webhook is not serving yet right after install: the pool apply fails with
 * `failed calling webhook "ipaddresspoolvalidationwebhook.metallb.io": … connection refused` (or no endpoints, or a
 * timeout). Such a failure is retried; any other is not.
 */
export function isWebhookRace(output: string): boolean {
  return /failed calling webhook/i.test(output) && /(connection refused|no endpoints available|context deadline exceeded|i\/o timeout|EOF)/i.test(output);
}

/**
 * A kind whose CRD is not served yet: on a fresh K3s, Traefik's CRDs (IngressRoute) arrive with the traefik-crd chart
 * some time after the API answers, and a CRD applied a moment ago may not be established. Retried like the webhook.
 */
export function isMissingKind(output: string): boolean {
  return /no matches for kind/i.test(output) || /ensure CRDs are installed first/i.test(output);
}

/** The kinds kubectl could not map (`no matches for kind "IngressRoute" in version "traefik.io/v1alpha1"`). */
export function missingKinds(output: string): string[] {
  return [...new Set([...output.matchAll(/no matches for kind "([^"]+)" in version "([^"]+)"/g)].map((m) => `${m[1]} (${m[2]})`))].sort();
}

// ---- node labels ---------------------------------------------------------------------------------------------

export const GET_NODES_JSON = sh`k3s kubectl get nodes -o json`;

/** Labels of every node in `kubectl get nodes -o json`. */
export function parseNodeLabels(json: string): Map<string, Record<string, string>> {
  const items = listItems(json);
  return new Map(items.map((i) => [String(i.metadata?.name ?? ''), (i.metadata?.labels ?? {}) as Record<string, string>]));
}

export interface NodeLabelChange {
  node: string;
  key: string;
  value: string;
  /** The value the node has now (undefined: no such label). */
  from?: string;
}

/**
 * The labels to set: each node in `desired` whose live label differs. A node missing from the cluster is skipped
 * (returned in `missing`): the cluster phase reports it.
 */
export function planNodeLabels(
  desired: { node: string; labels: Record<string, string> }[],
  live: Map<string, Record<string, string>>,
): { changes: NodeLabelChange[]; missing: string[] } {
  const changes: NodeLabelChange[] = [];
  const missing: string[] = [];
  for (const d of desired) {
    const have = live.get(d.node);
    if (!have) {
      missing.push(d.node);
      continue;
    }
    for (const key of Object.keys(d.labels).sort()) {
      const value = d.labels[key]!;
      if (have[key] !== value) changes.push({ node: d.node, key, value, ...(have[key] !== undefined ? { from: have[key] } : {}) });
    }
  }
  return { changes, missing };
}

/** `revue-pi.io/armv82=true|false` for one node, from the facts' own test. */
export function armLabel(armv82: boolean): Record<string, string> {
  return { [ARMV82_LABEL]: armv82 ? 'true' : 'false' };
}

/**
 * One round trip for every label change: one `kubectl label` per distinct key=value naming all its nodes (most
 * clusters need one or two), stopping at the first failure. On a Pi each kubectl costs a good part of a second.
 */
export function buildLabelNodesCommand(changes: NodeLabelChange[]): ShellScript {
  const groups = new Map<string, string[]>();
  for (const c of changes) {
    const label = `${c.key}=${c.value}`;
    groups.set(label, [...(groups.get(label) ?? []), c.node]);
  }
  return joinShell(
    [...groups].map(([label, nodes]) => sh`k3s kubectl label node ${nodes} ${label} --overwrite`),
    ' &&\n',
  );
}

// ---- live objects and pruning ---------------------------------------------------------------------------------

/** `kind.group` as kubectl takes a type (`deployment.apps`, `ipaddresspool.metallb.io`, `secret`). */
export function resourceOf(apiVersion: string, kind: string): string {
  const group = apiVersion.includes('/') ? apiVersion.split('/')[0]! : '';
  return group ? `${kind.toLowerCase()}.${group}` : kind.toLowerCase();
}

/** API groups every K3s server serves from the start (its helm controller's CRDs, its add-on CRD). */
export const K3S_GROUPS = ['helm.cattle.io', 'k3s.cattle.io'];

/** Served by Kubernetes or K3s itself, rather than added by a CRD that may not be installed yet (MetalLB, Traefik). */
export function isBuiltinGroup(apiVersion: string): boolean {
  if (!apiVersion.includes('/')) return true;
  const group = apiVersion.split('/')[0]!;
  return !group.includes('.') || group.endsWith('.k8s.io') || K3S_GROUPS.includes(group);
}

/**
 * Lists the live objects revue-pi manages (label selector), of the given kinds, in one command. Kinds added by a CRD
 * are listed only when that CRD exists (kubectl refuses the whole list for an unknown type). Prints one JSON List.
 */
export function buildListManagedCommand(kinds: { apiVersion: string; kind: string }[]): ShellScript {
  const seen = new Set<string>();
  const builtin: string[] = [];
  const custom: { resource: string; crd: string }[] = [];
  for (const k of [...kinds].sort((a, b) => resourceOf(a.apiVersion, a.kind).localeCompare(resourceOf(b.apiVersion, b.kind)))) {
    const resource = resourceOf(k.apiVersion, k.kind);
    if (seen.has(resource)) continue;
    seen.add(resource);
    if (isBuiltinGroup(k.apiVersion)) builtin.push(resource);
    else custom.push({ resource, crd: `${k.kind.toLowerCase()}s.${k.apiVersion.split('/')[0]}` });
  }
  const lines = [sh`kinds=${builtin.join(',')}`];
  for (const c of custom) {
    lines.push(sh`if k3s kubectl get crd ${c.crd} -o name >/dev/null 2>&1; then kinds="$kinds,${c.resource}"; fi`);
  }
  lines.push(sh`exec k3s kubectl get "$kinds" -A -l ${`${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`} -o json`, sh``);
  return joinShell(lines);
}

interface ListItem {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string>; generation?: number };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
  involvedObject?: { kind?: string; name?: string; namespace?: string };
  reason?: string;
  message?: string;
  type?: string;
  count?: number;
  lastTimestamp?: string;
  eventTime?: string;
}

function listItems(json: string): ListItem[] {
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch {
    throw new Error(`kubectl did not print JSON: ${json.trim().slice(0, 200)}`);
  }
  const items = (doc as { items?: unknown }).items;
  if (!Array.isArray(items)) throw new Error('kubectl printed no list (no "items")');
  return items as ListItem[];
}

/** The object references in a `kubectl get … -o json` List. */
export function parseObjectRefs(json: string): ObjectRef[] {
  return listItems(json).map((i) => ({
    apiVersion: String(i.apiVersion ?? ''),
    kind: String(i.kind ?? ''),
    ...(i.metadata?.namespace ? { namespace: i.metadata.namespace } : {}),
    name: String(i.metadata?.name ?? ''),
    ...(i.metadata?.labels ? { labels: i.metadata.labels } : {}),
  }));
}

/**
 * Deletes the given objects in the given order, in one script; a missing one counts as deleted. `--wait=false`:
 * a namespace terminates in the background. Exit status non-zero when any delete failed (the others still ran).
 */
export function buildDeleteCommand(refs: ObjectRef[]): ShellScript {
  const lines = [sh`rc=0`];
  for (const r of refs) {
    const ns = r.namespace ? sh` -n ${r.namespace}` : sh``;
    lines.push(sh`k3s kubectl delete ${resourceOf(r.apiVersion, r.kind)} ${r.name}${ns} --ignore-not-found --wait=false || rc=1`);
  }
  lines.push(sh`exit $rc`, sh``);
  return joinShell(lines);
}

export function describeRef(r: Pick<ObjectRef, 'kind' | 'namespace' | 'name'>): string {
  return `${r.kind} ${r.namespace ? `${r.namespace}/` : ''}${r.name}`;
}

// ---- readiness ------------------------------------------------------------------------------------------------

/** What a phase waits for: workloads (by namespace and/or label selector) and HelmCharts K3s installs. */
export interface WaitTarget {
  /** Deployments, StatefulSets and DaemonSets matching this: ready as `kubectl rollout status` sees it. */
  workloads?: { namespace?: string; selector?: string };
  /**
   * Rendered HelmCharts: each ready when workloads/charts.ts says so — its install Job (helm-install-<chart>)
   * succeeded for the current spec and its release runs the workloads the monitoring contract names, ready.
   */
  charts?: K8sObject[];
}

/** The targets of one apply phase, from its objects. */
export function waitTargetOf(phase: Phase, objects: K8sObject[]): WaitTarget {
  const charts = objects.filter((o) => o.kind === 'HelmChart');
  const hasWorkloads = objects.some((o) => ['Deployment', 'StatefulSet', 'DaemonSet'].includes(o.kind));
  const targetNamespaces = [...new Set(charts.map((c) => jobInstallsFor(c).targetNamespace))].sort();
  const target: WaitTarget = {};
  if (charts.length > 0) target.charts = charts;
  if (hasWorkloads) target.workloads = { selector: `${PHASE_LABEL}=${phase}` };
  // Whatever else runs in a chart's target namespace must be ready too (status shows all of it).
  else if (targetNamespaces.length === 1) target.workloads = { namespace: targetNamespaces[0] };
  return target;
}

/** Where the charts' install Jobs are, and the namespaces their releases run in that target.workloads does not list. */
function chartNamespaces(target: WaitTarget): { jobs: string[]; releases: string[] } {
  const charts = target.charts ?? [];
  const w = target.workloads;
  const covered = (ns: string) => !!w && !w.selector && (!w.namespace || w.namespace === ns);
  return {
    jobs: [...new Set(charts.map((c) => c.metadata.namespace ?? 'default'))].sort(),
    releases: [...new Set(charts.map((c) => jobInstallsFor(c).targetNamespace))].filter((ns) => !covered(ns)).sort(),
  };
}

/** One command printing the state of everything the target names, as JSON Lists one after the other. */
export function buildReadinessCommand(target: WaitTarget): ShellScript {
  const parts: ShellScript[] = [];
  const kinds = 'deployments.apps,statefulsets.apps,daemonsets.apps';
  if (target.workloads) {
    const where = target.workloads.namespace ? sh`-n ${target.workloads.namespace}` : sh`-A`;
    const sel = target.workloads.selector ? sh` -l ${target.workloads.selector}` : sh``;
    parts.push(sh`k3s kubectl get ${kinds} ${where}${sel} -o json`);
  }
  const { jobs, releases } = chartNamespaces(target);
  for (const ns of releases) parts.push(sh`k3s kubectl get ${kinds} -n ${ns} -o json`);
  for (const ns of jobs) parts.push(sh`k3s kubectl get jobs.batch -n ${ns} -o json`);
  return joinShell(parts);
}

/** Whether a workload item is one target.workloads names. */
export function inWaitTarget(item: { metadata?: { namespace?: string; labels?: Record<string, string> } }, workloads: WaitTarget['workloads']): boolean {
  if (!workloads) return false;
  const [k, v] = workloads.selector ? workloads.selector.split('=') : [];
  return (!workloads.namespace || item.metadata?.namespace === workloads.namespace) && (!k || item.metadata?.labels?.[k] === v);
}

export interface NotReady {
  kind: string;
  namespace?: string;
  name: string;
  /** Why, from its status: e.g. "1 of 2 replicas available", "job has not run yet". */
  reason: string;
  /** For a HelmChart's Job or release workload: the sentence `status` prints about it (workloads/charts.ts). */
  problem?: string;
  /**
   * Waiting will not help: `failed`, the install Job gave up; `incomplete`, the Job succeeded but the release lacks
   * workloads, which K3s does not install again by itself.
   */
  stuck?: 'failed' | 'incomplete';
}

/**
 * The objects of the target that are not ready, from the output of buildReadinessCommand (several JSON documents
 * one after the other). Workloads as `kubectl rollout status` sees them: the controller has observed the latest
 * generation and every replica is updated and available. HelmCharts as workloads/charts.ts decides, which is what
 * `status` reports.
 */
export function parseNotReady(output: string, target: WaitTarget): NotReady[] {
  const items = splitJsonDocuments(output).flatMap((d) => listItems(d));
  const notReady: NotReady[] = [];
  const judged = new Set<string>();
  const keyOf = (kind: string, namespace: string | undefined, name: string) => `${kind}/${namespace ?? ''}/${name}`;
  if (target.charts && target.charts.length > 0) {
    const live = { jobs: items.flatMap((i) => parseLiveJob(i) ?? []), workloads: items.flatMap((i) => parseLiveWorkload(i) ?? []) };
    for (const r of chartsReadiness(target.charts, live)) {
      for (const w of r.workloads) judged.add(keyOf(w.kind, w.namespace, w.name));
      if (r.verdict === 'ready') continue;
      if (r.chart.state !== 'installed') {
        notReady.push({
          kind: 'Job',
          namespace: r.chart.namespace,
          name: r.chart.job,
          reason: jobReason(r),
          problem: chartProblem(r),
          ...(r.verdict === 'failed' ? { stuck: 'failed' as const } : {}),
        });
        continue;
      }
      for (const w of r.workloads) {
        if (w.state === 'missing') {
          notReady.push({
            kind: w.kind,
            namespace: w.namespace,
            name: w.name,
            reason: `missing although Job ${r.chart.namespace}/${r.chart.job} succeeded`,
            problem: releaseWorkloadMissingProblem(w, r.chart),
            stuck: 'incomplete',
          });
        } else if (w.state === 'not-ready') {
          notReady.push({
            kind: w.kind,
            namespace: w.namespace,
            name: w.name,
            reason: `${w.ready} of ${w.desired} ${w.kind === 'DaemonSet' ? 'pods' : 'replicas'} ready`,
          });
        }
      }
    }
  }
  const seen = new Set<string>();
  for (const i of items) {
    const kind = String(i.kind ?? '');
    const name = String(i.metadata?.name ?? '');
    const namespace = i.metadata?.namespace;
    const key = keyOf(kind, namespace, name);
    if (kind === 'Job' || seen.has(key) || judged.has(key) || !inWaitTarget(i, target.workloads)) continue;
    seen.add(key);
    const why = workloadNotReady(i);
    if (why) notReady.push({ kind, ...(namespace ? { namespace } : {}), name, reason: why });
  }
  return notReady;
}

function workloadNotReady(i: ListItem): string | undefined {
  const spec = (i.spec ?? {}) as { replicas?: number };
  const st = (i.status ?? {}) as Record<string, number | undefined>;
  const generation = i.metadata?.generation;
  if (generation !== undefined && (st.observedGeneration ?? 0) < generation) return 'the controller has not seen the latest change yet';
  if (i.kind === 'DaemonSet') {
    const desired = st.desiredNumberScheduled ?? 0;
    const updated = st.updatedNumberScheduled ?? 0;
    const available = st.numberAvailable ?? 0;
    if (updated < desired) return `${updated} of ${desired} pods updated`;
    if (available < desired) return `${available} of ${desired} pods available`;
    return undefined;
  }
  const want = spec.replicas ?? 1;
  const updated = st.updatedReplicas ?? 0;
  const ready = i.kind === 'StatefulSet' ? (st.readyReplicas ?? 0) : (st.availableReplicas ?? 0);
  if (updated < want) return `${updated} of ${want} replicas updated`;
  if ((st.replicas ?? 0) > updated) return `${(st.replicas ?? 0) - updated} old replica(s) still terminating`;
  if (ready < want) return `${ready} of ${want} replicas ${i.kind === 'StatefulSet' ? 'ready' : 'available'}`;
  return undefined;
}

/** Splits concatenated pretty-printed JSON documents (what several `kubectl … -o json` in a row print). */
export function splitJsonDocuments(text: string): string[] {
  const docs: string[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  let escaped = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (escaped) escaped = false;
      else if (c === '\\') escaped = true;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '{') {
      if (depth === 0) start = i;
      depth++;
    } else if (c === '}') {
      depth--;
      if (depth === 0 && start >= 0) {
        docs.push(text.slice(start, i + 1));
        start = -1;
      }
    }
  }
  return docs;
}

// ---- why not ready ----------------------------------------------------------------------------------------------

/** Pods and events of the namespaces concerned, for the explanation after a timeout. */
export function buildDiagnosticsCommand(namespaces: string[]): ShellScript {
  return joinShell([...new Set(namespaces)].sort().flatMap((ns) => [sh`k3s kubectl get pods -n ${ns} -o json`, sh`k3s kubectl get events -n ${ns} -o json`]));
}

/**
 * One sentence per object not ready: its state, then what its pods say (waiting reasons such as ImagePullBackOff,
 * CrashLoopBackOff, or the scheduler's "0/3 nodes are available …") and its latest warning events. Pure.
 */
export function explainNotReady(notReady: NotReady[], diagnostics: string): string[] {
  let items: ListItem[] = [];
  try {
    items = splitJsonDocuments(diagnostics).flatMap((d) => listItems(d));
  } catch {
    items = [];
  }
  const pods = items.filter((i) => i.kind === 'Pod');
  const events = items.filter((i) => i.kind === 'Event' || i.involvedObject !== undefined);
  return notReady.map((n) => {
    const ownPods = pods.filter((p) => p.metadata?.namespace === n.namespace && belongsTo(p.metadata?.name ?? '', n.name));
    const podNotes = ownPods.flatMap((p) => podProblems(p)).slice(0, 3);
    const ownEvents = events
      .filter((e) => e.involvedObject?.namespace === n.namespace && belongsTo(e.involvedObject?.name ?? '', n.name) && e.type !== 'Normal')
      .sort((a, b) => String(a.lastTimestamp ?? a.eventTime ?? '').localeCompare(String(b.lastTimestamp ?? b.eventTime ?? '')))
      .slice(-2)
      .map((e) => `${e.reason ?? 'Event'}: ${e.message ?? ''}`.trim());
    const notes = [...new Set([...podNotes, ...ownEvents])];
    if (n.problem) return `${n.problem}${notes.length > 0 ? ` (${notes.join('; ')})` : ''}`;
    return `${describeRef(n)}: ${n.reason}${notes.length > 0 ? ` — ${notes.join('; ')}` : ownPods.length === 0 ? ' — no pods yet' : ''}`;
  });
}

/** A pod of a workload is named `<workload>-<hash>-<id>` (Deployment), `<workload>-<n>` or `<workload>-<id>`. */
function belongsTo(name: string, owner: string): boolean {
  return name === owner || (name.startsWith(`${owner}-`) && /^[a-z0-9]+(-[a-z0-9]+)?$/.test(name.slice(owner.length + 1)));
}

function podProblems(p: ListItem): string[] {
  const status = (p.status ?? {}) as {
    phase?: string;
    conditions?: { type?: string; status?: string; reason?: string; message?: string }[];
    containerStatuses?: {
      name?: string;
      ready?: boolean;
      restartCount?: number;
      state?: { waiting?: { reason?: string; message?: string }; terminated?: { reason?: string; exitCode?: number } };
    }[];
  };
  const name = p.metadata?.name ?? '';
  const out: string[] = [];
  const unschedulable = status.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
  if (unschedulable) out.push(`pod ${name} not scheduled: ${unschedulable.message ?? unschedulable.reason ?? 'unschedulable'}`);
  for (const c of status.containerStatuses ?? []) {
    const waiting = c.state?.waiting;
    if (waiting?.reason && waiting.reason !== 'ContainerCreating') {
      out.push(
        `pod ${name} container ${c.name ?? '?'}: ${waiting.reason}${waiting.message ? ` (${waiting.message.split('\n')[0]})` : ''}${c.restartCount ? `, ${c.restartCount} restarts` : ''}`,
      );
    } else if (c.state?.terminated) {
      out.push(`pod ${name} container ${c.name ?? '?'}: ${c.state.terminated.reason ?? 'terminated'} (exit ${c.state.terminated.exitCode ?? '?'})`);
    }
  }
  if (out.length === 0 && status.phase && status.phase !== 'Running' && status.phase !== 'Succeeded') out.push(`pod ${name} is ${status.phase}`);
  return out;
}

// ---- plan ---------------------------------------------------------------------------------------------------------

/** What `plan` says about one phase, compared with the live objects (no server-side diff: present ≠ unchanged). */
export function describePlannedPhase(phase: Phase, objects: K8sObject[], live: Set<string> | undefined, key: (o: K8sObject) => string): string {
  if (!live) return `would apply ${objects.length} object${objects.length === 1 ? '' : 's'} (${phase})`;
  const missing = objects.filter((o) => !live.has(key(o))).length;
  const present = objects.length - missing;
  return `would apply ${objects.length} object${objects.length === 1 ? '' : 's'} (${phase}): ${missing} new, ${present} already there (updated only where they differ)`;
}

// ---- secrets already in the cluster ------------------------------------------------------------------------------

/** revue-pi's Secrets in the cluster (to recover the workload secrets when the state file is gone). Prints a List. */
export const GET_MANAGED_SECRETS = sh`k3s kubectl get secrets -A -l ${`${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`} -o json`;

/**
 * The workload secrets held by the cluster's Secrets, in the state file's shape (only what was found), or undefined
 * when there are none. A lost state file must not mean new MongoDB passwords: the databases keep their first one.
 */
export function secretsFromCluster(listJson: string, revueNamespace: string): Record<string, unknown> | undefined {
  const items = listItems(listJson) as (ListItem & { data?: Record<string, string> })[];
  const value = (ns: string, name: string, key: string): string | undefined => {
    const s = items.find((i) => i.kind === 'Secret' && i.metadata?.namespace === ns && i.metadata?.name === name);
    const v = s?.data?.[key];
    return v === undefined ? undefined : Buffer.from(v, 'base64').toString('utf8');
  };
  const out: Record<string, unknown> = {};
  const mongo: Record<string, string> = {};
  for (const svc of MONGO_SERVICES) {
    const v = value(revueNamespace, SECRET_NAMES.database(svc), 'password');
    if (v !== undefined) mongo[svc] = v;
  }
  if (Object.keys(mongo).length > 0) out.mongoRootPasswords = mongo;
  const tokens = SECRET_NAMES.tokens;
  const put = (field: string, v: string | undefined) => {
    if (v !== undefined) out[field] = v;
  };
  put('jwtSecret', value(revueNamespace, tokens, 'JWT_SECRET'));
  put('jwtRefreshSecret', value(revueNamespace, tokens, 'JWT_REFRESH_SECRET'));
  put('devApiKey', value(revueNamespace, tokens, 'DEV_API_KEY'));
  const bearer: Record<string, string> = {};
  for (const name of BEARER_TOKEN_NAMES) {
    const v = value(revueNamespace, tokens, name);
    if (v !== undefined) bearer[name] = v;
  }
  if (Object.keys(bearer).length > 0) out.bearerTokens = bearer;
  put('grafanaAdminPassword', value(GRAFANA_ADMIN.namespace, GRAFANA_ADMIN.secret, GRAFANA_ADMIN.passwordKey));
  return Object.keys(out).length > 0 ? out : undefined;
}
