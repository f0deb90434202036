/** One apply phase on the first server (bounded, retried past MetalLB's webhook race) and the wait until it is ready. */
import { trimOutput } from '../core/errors.js';
import {
  buildApplyCommand,
  buildRemoveFileCommand,
  countApply,
  describeRef,
  isMissingKind,
  isWebhookRace,
  missingKinds,
  parseApplyOutput,
  remoteApplyPath,
  type ApplyAction,
} from './apply.js';
import { diagnosticsQueries, explainNotReady } from './diagnostics.js';
import { notReadyOf, readinessQueries, waitTargetOf, type NotReady, type WaitTarget } from './readiness.js';
import { KubectlError } from '../core/kube/index.js';
import { synthYaml, type K8sObject, type Phase } from './render.js';
import {
  type WorkloadsPhaseOptions,
  type WorkloadPhaseReport,
  PHASE,
  DEFAULT_PHASE_TIMEOUT_MS,
  DEFAULT_RELEASE_SETTLE_MS,
  kubectlOf,
  seconds,
  message,
  sleep,
} from './phase-context.js';

export async function applyPhase(opts: WorkloadsPhaseOptions, phase: Phase, objects: K8sObject[]): Promise<WorkloadPhaseReport> {
  const { emit, log } = opts;
  const transport = opts.firstServer.transport;
  const server = opts.firstServer.node.name;
  const timeoutMs = opts.phaseTimeoutMs ?? DEFAULT_PHASE_TIMEOUT_MS;
  const started = Date.now();
  const deadline = started + timeoutMs;
  const report: WorkloadPhaseReport = {
    phase,
    objects: objects.length,
    created: 0,
    configured: 0,
    unchanged: 0,
    status: 'unchanged',
    durationMs: 0,
    attempts: 0,
  };
  const done = (status: 'changed' | 'unchanged' | 'failed', error?: string): WorkloadPhaseReport => {
    report.status = status;
    report.durationMs = Date.now() - started;
    if (error) report.error = error;
    const detail = error ?? `${objects.length} objects: ${report.created} created, ${report.configured} configured, ${report.unchanged} unchanged`;
    log.write(`[${server}] workloads ${phase}: ${detail}`);
    emit({ type: 'node-step', phase: PHASE, node: server, step: phase, status, detail });
    return report;
  };
  emit({ type: 'node-step', phase: PHASE, node: server, step: phase, status: 'running', detail: `applying ${objects.length} objects` });

  const path = remoteApplyPath(phase);
  const yamlText = synthYaml(objects);
  const poll = opts.pollIntervalMs ?? 3000;
  // Per object, what happened across attempts: a retry sees objects created by an earlier one as unchanged.
  const actions = new Map<string, ApplyAction>();
  const record = (stdout: string) => {
    for (const o of parseApplyOutput(stdout)) if (o.action !== 'unchanged' || !actions.has(o.object)) actions.set(o.object, o.action);
    const counts = countApply([...actions].map(([object, action]) => ({ object, action })));
    Object.assign(report, counts);
  };
  for (;;) {
    report.attempts!++;
    let applied;
    try {
      await transport.writeFile(path, yamlText, { mode: 0o600, sudo: true });
      applied = await transport.run(buildApplyCommand(path), { sudo: true, timeoutMs: Math.max(30_000, deadline - Date.now()) });
    } catch (error) {
      await transport.run(buildRemoveFileCommand(path), { sudo: true, timeoutMs: 15_000 }).catch(() => undefined);
      return done('failed', `applying the ${phase} objects on ${server} failed: ${message(error)}`);
    }
    record(applied.stdout);
    if (applied.code === 0) break;
    const output = `${applied.stderr}\n${applied.stdout}`;
    const waitingFor = isWebhookRace(output)
      ? "MetalLB's webhook"
      : isMissingKind(output)
        ? `the CRDs of ${missingKinds(output).join(', ') || 'some kinds'}`
        : undefined;
    if (waitingFor && Date.now() + poll < deadline) {
      log.write(`[${server}] workloads ${phase}: waiting for ${waitingFor} (attempt ${report.attempts}); retrying`);
      emit({ type: 'node-step', phase: PHASE, node: server, step: phase, status: 'running', detail: `waiting for ${waitingFor} (attempt ${report.attempts})` });
      await sleep(poll);
      continue;
    }
    const why = isWebhookRace(output)
      ? `MetalLB's webhook did not accept them within ${seconds(timeoutMs)} s`
      : isMissingKind(output)
        ? `the cluster still serves no ${missingKinds(output).join(', ') || 'such kinds'} after ${seconds(timeoutMs)} s — are K3s's Traefik and its CRDs enabled?`
        : applied.code === 124
          ? `kubectl apply did not finish within ${seconds(timeoutMs)} s`
          : `kubectl apply exited ${applied.code}`;
    return done('failed', `applying the ${phase} objects on ${server} failed (${why}): ${trimOutput(applied.stderr || applied.stdout, 6)}`);
  }

  // Wait until what the phase started is ready (bounded by the same deadline).
  const target = waitTargetOf(phase, objects);
  const notReady = await waitReady(opts, target, deadline, phase);
  const changed = report.created + report.configured > 0;
  const stuck = notReady.filter((n) => n.stuck);
  if (stuck.length > 0) {
    // A chart K3s will not install by waiting longer: said as status says it, with the Job to read or delete.
    return done('failed', `the ${phase} objects were applied, but ${[...new Set(stuck.map((n) => n.problem ?? `${describeRef(n)}: ${n.reason}`))].join(' ')}`);
  }
  if (notReady.length > 0) {
    const namespaces = [...new Set(notReady.map((n) => n.namespace).filter((n): n is string => !!n))];
    const diag =
      namespaces.length > 0
        ? await kubectlOf(opts)
            .getEach(diagnosticsQueries(namespaces))
            .catch(() => undefined)
        : undefined;
    const reasons = explainNotReady(notReady, diag?.flat() ?? []);
    return done(
      'failed',
      `the ${phase} objects were applied but ${notReady.length === 1 ? 'one is' : `${notReady.length} are`} not ready after ${seconds(timeoutMs)} s: ${reasons.join('; ')}. ` +
        `Fix the cause (see kubectl describe on ${server}) and run up again.`,
    );
  }
  return done(changed ? 'changed' : 'unchanged');
}

async function waitReady(opts: WorkloadsPhaseOptions, target: WaitTarget, deadline: number, phase: Phase): Promise<NotReady[]> {
  const queries = readinessQueries(target);
  if (queries.length === 0) return [];
  const kubectl = kubectlOf(opts);
  let last: NotReady[] = [];
  let announced = false;
  let incompleteSince: number | undefined;
  for (;;) {
    try {
      last = notReadyOf((await kubectl.getEach(queries, { timeoutMs: 30_000 })).flat(), target);
      if (last.length === 0) return [];
    } catch (error) {
      last = [
        { kind: 'List', name: phase, reason: error instanceof KubectlError ? `kubectl could not list them: ${trimOutput(error.output, 2)}` : message(error) },
      ];
    }
    // A failed install Job gives up for good; a release missing workloads after its Job succeeded, once it has
    // stayed so for releaseSettleMs (K3s may still be replacing a Job made for the chart's previous spec).
    if (last.some((n) => n.stuck === 'failed')) return last.filter((n) => n.stuck);
    const incomplete = last.filter((n) => n.stuck === 'incomplete');
    incompleteSince = incomplete.length > 0 ? (incompleteSince ?? Date.now()) : undefined;
    if (incompleteSince !== undefined && Date.now() - incompleteSince >= (opts.releaseSettleMs ?? DEFAULT_RELEASE_SETTLE_MS)) return incomplete;
    if (Date.now() >= deadline) return last.map((n) => (n.stuck ? { ...n, stuck: undefined } : n));
    if (!announced) {
      announced = true;
      const waitingFor = `waiting for ${last.map((n) => `${describeRef(n)} (${n.reason})`).join(', ')}`;
      opts.log.write(`[${opts.firstServer.node.name}] workloads ${phase}: ${waitingFor}`);
      opts.emit({ type: 'node-step', phase: PHASE, node: opts.firstServer.node.name, step: phase, status: 'running', detail: waitingFor });
    }
    await sleep(Math.min(opts.pollIntervalMs ?? 3000, Math.max(0, deadline - Date.now())));
  }
}
