import { describe, expect, it } from 'vitest';
import { labRunSummary } from '../../lab/skip-reporter.js';

const cwd = process.cwd();
const unit = (file: string, skipped = false) => ({ project: 'unit', file: `${cwd}/test/unit/${file}`, skipped });
const lab = (file: string, skipped = false) => ({ project: 'lab', file: `${cwd}/test/${file}`, skipped });
const why = () => 'the lab needs root';

describe('the line that ends a run', () => {
  it('says loudly that the lab was skipped, with the reason', () => {
    expect(labRunSummary([unit('a.test.ts'), lab('lab/lab.test.ts', true), lab('integration/up.test.ts', true)], why)).toBe(
      'LAB SKIPPED: 2 of 2 lab suites did not run (the lab needs root). Nothing on the simulated Pis was tested; run as root (.ci/run sets the machine up).',
    );
  });

  it('counts a partly skipped lab as skipped', () => {
    expect(labRunSummary([lab('lab/lab.test.ts'), lab('integration/up.test.ts', true)], why)).toMatch(/^LAB SKIPPED: 1 of 2 lab suites/);
  });

  it('says so when the run had no lab suite at all', () => {
    expect(labRunSummary([unit('a.test.ts')], why)).toBe('LAB NOT RUN: this run had no lab suite (unit tests only); npm test or npm run test:lab runs them.');
  });

  it('confirms a full lab run, and names skipped suites of other projects', () => {
    expect(labRunSummary([unit('cli/flash/firstrun-sandbox.test.ts', true), lab('lab/lab.test.ts')], why)).toBe(
      'Lab: all 1 lab suite ran.\nAlso skipped: test/unit/cli/flash/firstrun-sandbox.test.ts.',
    );
  });
});
