/**
 * `describeLab(name, fn)`: a describe() for suites that need the lab. Where the lab cannot run (not root,
 * no sshd, no namespaces) it skips loudly — except under CI=true, where it throws so the run fails.
 */
import { describe } from 'vitest';
import { labSupport } from './lab.js';

export function describeLab(name: string, fn: () => void): void {
  const support = labSupport();
  if (support.ok) {
    describe(name, fn);
    return;
  }
  if (process.env.CI === 'true') {
    throw new Error(`Lab suite "${name}" cannot run and CI=true forbids skipping it: ${support.reason}`);
  }
  const line = '!'.repeat(100);
  console.warn(
    `\n${line}\n!! SKIPPED lab suite "${name}": ${support.reason}\n!! Run as root with openssh-server and sudo installed (.ci/run sets that up).\n${line}\n`,
  );
  describe.skip(name, fn);
}
