/**
 * Helper process for lock.test.ts: takes the lock of the folder argv[2] as `up`, prints one JSON line
 * ({ won: true } or { won: false, message }), then holds it until killed or for argv[3] ms. With argv[4] (a time in
 * ms since the epoch) it starts trying only then, busy-waiting the last moments, so racers start together.
 */
import { acquireStateLock, StateLockedError } from '../../../core/lock.js';

const [dir, holdMs, startAt] = process.argv.slice(2) as [string, string | undefined, string | undefined];
if (startAt) {
  const at = Number(startAt);
  if (at - Date.now() > 20) await new Promise((r) => setTimeout(r, at - Date.now() - 20));
  while (Date.now() < at) {
    // busy-wait
  }
}
try {
  const lock = await acquireStateLock(dir, 'lab', 'up');
  process.stdout.write(`${JSON.stringify({ won: true, token: lock.holder.token })}\n`);
  setTimeout(() => lock.release(), holdMs ? Number(holdMs) : 1 << 30);
} catch (error) {
  if (!(error instanceof StateLockedError)) throw error;
  process.stdout.write(`${JSON.stringify({ won: false, message: error.message })}\n`);
}
