/**
 * Ends every run with one line saying whether the lab ran: a run that skipped the lab suites (not root, no sshd,
 * no namespaces — see skip.ts) passes, but must not read as if the simulated Pis had been exercised. Suites
 * skipped elsewhere (e.g. a unit test that needs root) are named too.
 */
import type { Reporter, TestModule } from 'vitest/node';
import { labSupport } from './lab.js';

export default class LabSkipReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    console.log(labRunSummary(testModules.map((m) => ({ project: m.project.name, file: m.moduleId, skipped: m.state() === 'skipped' }))));
  }
}

export interface ModuleOutcome {
  project: string;
  file: string;
  skipped: boolean;
}

/** The closing line(s); pure apart from asking labSupport() why the lab could not run. */
export function labRunSummary(modules: ModuleOutcome[], why: () => string = labReason): string {
  const rel = (f: string) => f.replace(`${process.cwd()}/`, '');
  const lab = modules.filter((m) => m.project === 'lab');
  const skippedLab = lab.filter((m) => m.skipped);
  const skippedOther = modules.filter((m) => m.project !== 'lab' && m.skipped).map((m) => rel(m.file));
  const other = skippedOther.length > 0 ? `\nAlso skipped: ${skippedOther.join(', ')}.` : '';
  if (lab.length === 0) return `LAB NOT RUN: this run had no lab suite (unit tests only); npm test or npm run test:lab runs them.${other}`;
  if (skippedLab.length === 0) return `Lab: all ${lab.length} lab suite${lab.length === 1 ? '' : 's'} ran.${other}`;
  return (
    `LAB SKIPPED: ${skippedLab.length} of ${lab.length} lab suites did not run (${why()}). ` +
    `Nothing on the simulated Pis was tested; run as root (.ci/run sets the machine up).${other}`
  );
}

function labReason(): string {
  const support = labSupport();
  return support.ok ? 'skipped inside the suite' : (support.reason.split(';')[0] ?? support.reason).replace(/\.$/, '');
}
