/** Why objects are not ready, in words: what their pods and the latest warning events say. Pure. */
import { ofKind, type KubeItem, type KubePod, type KubeQuery } from '../core/kube/index.js';
import { describeRef } from './apply.js';
import type { NotReady } from './readiness.js';

/** Pods and events of the namespaces concerned, for the explanation after a timeout (one round trip: Kubectl.getEach). */
export function diagnosticsQueries(namespaces: string[]): KubeQuery[] {
  return [...new Set(namespaces)].sort().flatMap((namespace): KubeQuery[] => [
    { resources: ['pods'], namespace, kind: 'Pod' },
    { resources: ['events'], namespace, kind: 'Event' },
  ]);
}

/**
 * One sentence per object not ready: its state, then what its pods say (waiting reasons such as ImagePullBackOff,
 * CrashLoopBackOff, or the scheduler's "0/3 nodes are available …") and its latest warning events. Pure.
 */
export function explainNotReady(notReady: NotReady[], diagnostics: readonly KubeItem[]): string[] {
  const pods = ofKind(diagnostics, 'Pod');
  const events = ofKind(diagnostics, 'Event');
  return notReady.map((n) => {
    const ownPods = pods.filter((p) => p.metadata?.namespace === n.namespace && belongsTo(p.metadata?.name ?? '', n.name));
    const podNotes = ownPods.flatMap((p) => podProblems(p)).slice(0, 3);
    const ownEvents = events
      .filter((e) => e.involvedObject?.namespace === n.namespace && belongsTo(e.involvedObject?.name ?? '', n.name) && e.type !== 'Normal')
      .sort((a, b) => (a.lastTimestamp ?? a.eventTime ?? '').localeCompare(b.lastTimestamp ?? b.eventTime ?? ''))
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

function podProblems(p: KubePod): string[] {
  const status = p.status ?? {};
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
