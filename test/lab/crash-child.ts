/**
 * Helper process for crash.test.ts: starts a lab, prints its root directory and node PID-namespace ids
 * as one JSON line, then waits to be killed (SIGKILL: no stop(), no exit hooks). Arguments: the subnet, and the
 * folder to make the lab in (crash.test.ts's own, which no other lab file looks into).
 */
import fs from 'node:fs';
import { startLab } from './lab.js';

const lab = await startLab([{ name: 'crash-1' }, { name: 'crash-2' }], {
  subnet: process.argv[2] ?? '127.0.251.',
  ...(process.argv[3] ? { parentDir: process.argv[3] } : {}),
});
const namespaces = await Promise.all(lab.nodes.map(async (n) => (await n.exec('readlink /proc/self/ns/pid')).stdout.trim()));
process.stdout.write(`${JSON.stringify({ rootDir: lab.rootDir, namespaces, lab: fs.existsSync(lab.rootDir) })}\n`);
setInterval(() => undefined, 1 << 30);
