import type { ProbeSection } from './remote/probe.js';

/**
 * The one shape of a stage of `up`/`plan` — node preparation (provision/step.ts), K3s (cluster/step.ts), the
 * workloads (workloads/step.ts). The pipeline (pipeline/) composes them and owns concurrency:
 *
 *   probe     read-only. A stage does not open its own round trip: it names the sections it adds to the node's one
 *             probe script (core/remote/probe.ts), and reads its facts from the answer. The pipeline runs every stage's
 *             sections for a node as ONE command, so a converged re-run costs one connection and one command per node.
 *   check     (where a stage has one) pure: what in the facts refuses or warns before anything is planned.
 *   plan      pure: facts + inventory (in the target) → the changes that would make them match.
 *   describe  one line per change, for `plan` and the confirmation `up` asks for.
 *   apply     makes the changes and returns what happened.
 *
 * A stage states its types once (StepTypes): what its probe needs to know beforehand (caches from the last run), its
 * facts, what its plan needs beside them (the inventory node), its change, what its apply takes — for a stage that orders
 * nodes itself (the cluster: servers one at a time, then agents) all of its nodes rather than one — and its result.
 */
export interface StepTypes {
  probeTarget: unknown;
  facts: unknown;
  planTarget: unknown;
  change: unknown;
  applyInput: unknown;
  applied: unknown;
}

export interface Step<T extends StepTypes> {
  /** The phase name in events and the run report. */
  readonly phase: string;
  readonly probe: {
    /** The shell sections this stage adds to the node's one probe round trip, in order. */
    sections(target: T['probeTarget']): ProbeSection[];
    /** This stage's facts, from the probe's answer (section name → its text). */
    read(answer: Map<string, string>, target: T['probeTarget']): T['facts'];
  };
  check?(facts: T['facts'], target: T['planTarget']): StepCheck[];
  plan(facts: T['facts'], target: T['planTarget']): T['change'][];
  describe(change: T['change']): string;
  apply(input: T['applyInput']): Promise<T['applied']>;
}

/** A finding of a stage's check: an error leaves the node out of the run, a warning is reported. */
export interface StepCheck {
  severity: 'error' | 'warning';
  message: string;
}
