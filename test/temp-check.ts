// vitest globalSetup: the run's temporary folders live in one folder of their own (tempDir in test/fakes/temp-dir.ts
// puts them there); at the end of the run anything left in it is a test that did not clean up, and the run fails.
// The lab's node trees live in /dev/shm or the OS temp dir (test/lab/lab.ts); one whose owning process is gone was
// left behind too. Other processes on the machine never write into the run's folder, so the check cannot blame them.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_TEMP_ROOT_ENV } from './fakes/temp-root.js';

/** Prefixes of what the tests create outside the run's folder, in one place. */
export const LAB_DIR_PREFIX = 'revue-pi-lab-';
const LAB_PARENTS = ['/dev/shm', tmpdir()];

/** Caches tools keep in the temp dir on purpose, not made by a test: tsx's compile cache (scripts run through tsx). */
const TOOL_CACHES = [/^tsx-\d+$/];

export default function setup(): () => void {
  // Every project lists this setup; the first one to run owns the run's folder.
  if (process.env[TEST_TEMP_ROOT_ENV]) return () => undefined;
  const root = mkdtempSync(join(tmpdir(), 'revue-pi-test-run-'));
  // Workers and the CLI processes tests start inherit both: tempDir() names the folder, and anything made with
  // os.tmpdir() directly (by a test, or by the CLI a test runs) lands there too and is caught the same way.
  // The lab's nodes do not see it: their processes start with an environment of their own (test/lab/lab.ts).
  process.env[TEST_TEMP_ROOT_ENV] = root;
  process.env.TMPDIR = root;
  const labsBefore = new Set(labDirs());
  return () => {
    const left = [
      ...readdirSync(root)
        .filter((e) => !TOOL_CACHES.some((cache) => cache.test(e)))
        .map((e) => join(root, e)),
      ...labDirs().filter((d) => !labsBefore.has(d) && ownerGone(d)),
    ];
    rmSync(root, { recursive: true, force: true });
    if (left.length > 0) {
      const message = `Tests left ${left.length} temporary folder(s) behind (removed now; make the test clean up with tempDir() from test/fakes/temp-dir.ts):\n${left.map((d) => `  ${d}`).join('\n')}`;
      process.exitCode = 1;
      throw new Error(message);
    }
  };
}

function labDirs(): string[] {
  return [...new Set(LAB_PARENTS)].flatMap((parent) => {
    try {
      return readdirSync(parent)
        .filter((e) => e.startsWith(LAB_DIR_PREFIX))
        .map((e) => join(parent, e));
    } catch {
      return [];
    }
  });
}

/** A lab tree whose recorded owner has exited (one still being made, or another process's live lab, is not). */
function ownerGone(dir: string): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(join(dir, 'lab.pid'), 'utf8'));
  } catch {
    return false;
  }
  if (!(pid > 0)) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
