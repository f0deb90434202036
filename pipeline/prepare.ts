import { RevuePiError } from '../core/errors.js';
import { deferred, limiter } from '../core/runner.js';
import { provisionStep } from '../provision/step.js';
import type { RunOptions } from './options.js';
import { probeNodeState, probeOptionsFor, type ProbeExtras } from './probe.js';
import { SKIPPED, errorDetail, errorMessage, firstServerFirst, forgetClusterState, markFailed, type NodeSession } from './session.js';

/** What prepareInBackground hands the cluster phase: per node, whether it is prepared; and when the phase has ended. */
export interface PreparingNodes {
  /** Per node: resolves once it is prepared (true) or failed (false). */
  ready: Map<string, Promise<boolean>>;
  done: Promise<void>;
  /** Resolves once the first server's one preparation command has returned (the others' probes wait for it). */
  firstSent: Promise<void>;
}

/**
 * The prepare phase, started without waiting for it, so that each node goes on to K3s as soon as it is prepared: each
 * node's preparation is a promise of its own (queued behind --concurrency), which the cluster phase waits on.
 */
export function prepareInBackground(
  opts: RunOptions,
  sessions: NodeSession[],
  extras: ProbeExtras,
  /** Whether a node takes part, once it may be known (started early, the phase waits here for the others' probes). */
  takesPart: (s: NodeSession) => Promise<boolean> = async () => true,
): PreparingNodes {
  // The first server goes first: the others' preparation starts once its command has returned, so the node everyone
  // waits for is not slowed (on a busy laptop or network) by nodes that will wait for it anyway. It heads the queue, so
  // a low --concurrency cannot leave it waiting behind them.
  const first = sessions.find((s) => s.node.name === extras.firstServer);
  const firstSent = deferred<void>();
  if (!first) firstSent.resolve();
  const ordered = firstServerFirst(sessions, first);
  opts.emit({ type: 'phase-start', phase: 'prepare', title: 'Preparing the nodes (boot config, hostname, reboots)' });
  const slots = limiter(opts.concurrency);
  // Each node's own promise, in queue order: true once prepared, false when it failed or took no part.
  const outcomes = ordered.map((s) =>
    slots(async (): Promise<boolean | typeof SKIPPED> => {
      if (!(await takesPart(s))) return SKIPPED;
      try {
        if (s !== first) await firstSent.promise;
        await prepareNode(opts, s, extras, s === first ? () => firstSent.resolve() : undefined);
        // Probed again after its reboot, it read the cluster while others may still be rebooting.
        if (s.report.rebooted) forgetClusterState(s);
        return true;
      } catch (error) {
        // Recorded on the node before the cluster phase hears of it.
        markFailed(s, errorMessage(error), 'prepare');
        opts.log.write(`[${s.node.name}] prepare failed: ${errorDetail(error)}`);
        return false;
      } finally {
        if (s === first) firstSent.resolve();
      }
    }),
  );
  const done = Promise.all(outcomes).then((results) => {
    const ok = ordered.every((s, i) => results[i] === SKIPPED || !s.report.error);
    opts.emit({ type: 'phase-end', phase: 'prepare', ok });
  });
  return {
    ready: new Map(ordered.map((s, i) => [s.node.name, outcomes[i]!.then((r) => r === true)])),
    done,
    firstSent: firstSent.promise,
  };
}

/** One node through provisionStep.apply, its outcome recorded on the node's report and session. */
async function prepareNode(opts: RunOptions, s: NodeSession, extras: ProbeExtras, commandSent?: () => void): Promise<void> {
  const { emit, inventory, log } = opts;
  const node = s.node;
  const step = s.report.steps.find((x) => x.phase === 'prepare')!;
  if (s.prepareChanges.length > 0) emit({ type: 'node-step', phase: 'prepare', node: node.name, step: 'boot-config', status: 'running' });
  const applied = await provisionStep.apply({
    target: { node, inventory },
    transport: s.transport!,
    facts: s.facts!,
    changes: s.prepareChanges,
    onChange: (change) => {
      step.changes.push(provisionStep.describe(change));
      step.status = 'changed';
      log.write(`[${node.name}] ${provisionStep.describe(change)}`);
    },
    ...(commandSent ? { commandSent } : {}),
    onReboot: (reason) => {
      step.status = 'changed';
      step.changes.push(provisionStep.describe({ kind: 'reboot', reason }));
      emit({ type: 'node-step', phase: 'prepare', node: node.name, step: 'reboot', status: 'running', detail: reason });
      log.write(`[${node.name}] rebooting: ${reason}`);
    },
    // The probe after the reboot is also the check that it happened: a new boot id.
    probeAgain: () => probeNodeState(s.transport!, s.cachedK3sVersion, probeOptionsFor(s, extras)),
  });
  if (s.prepareChanges.length === 0) {
    emit({ type: 'node-step', phase: 'prepare', node: node.name, step: 'boot-config', status: 'unchanged' });
    return;
  }
  if (applied.probed) {
    s.report.rebooted = true;
    s.fastCheckOutput = applied.probed.fastCheckOutput;
    s.facts = applied.probed.facts;
    s.k3s = applied.probed.k3s;
  }
  if (applied.problemsAfterReboot.length > 0) throw new RevuePiError(applied.problemsAfterReboot.join(' '), { code: 'VERIFY', node: node.name });
  emit({
    type: 'node-step',
    phase: 'prepare',
    node: node.name,
    step: 'boot-config',
    status: 'changed',
    detail: step.changes.length === 1 ? step.changes[0] : `${step.changes.length} changes`,
  });
}
