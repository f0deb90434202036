import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { tempDir } from '../fakes/temp-dir.js';
import { startLab } from './lab.js';
import { describeLab } from './skip.js';

/** "pid starttime" of live processes in `namespaces` (the start time tells a reused namespace id apart). */
function pidsIn(namespaces: Set<string>): string[] {
  const found: string[] = [];
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] === 'Z') continue;
      if (namespaces.has(fs.readlinkSync(`/proc/${pid}/ns/pid`))) found.push(`${pid} ${fields[19]}`);
    } catch {
      /* gone */
    }
  }
  return found;
}

function refuses(address: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: address, port: 22 });
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED'));
  });
}

describeLab('lab when its process dies', () => {
  it('takes every node down with a SIGKILLed supervisor, and the next lab removes the leftover directory', async () => {
    // The crashed lab's folder goes where only this test looks: lab files running beside this one start labs too, and
    // each start removes labs whose process is gone from the default places, which would race the checks below.
    const parentDir = tempDir('crash-labs');
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./crash-child.ts', import.meta.url)), '127.0.251.', parentDir], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) resolve(out.split('\n')[0]!);
      });
      child.once('exit', (code) => reject(new Error(`crash-child exited early (${code})`)));
    });
    const { rootDir, namespaces } = JSON.parse(line) as { rootDir: string; namespaces: string[] };
    expect(path.dirname(rootDir)).toBe(parentDir);
    const ns = new Set(namespaces);
    expect(ns.size).toBe(2);
    const before = pidsIn(ns);
    expect(before.length).toBeGreaterThanOrEqual(4); // PID 1 + sshd per node
    expect(await refuses('127.0.251.2')).toBe(false);

    child.kill('SIGKILL');
    await expect.poll(() => pidsIn(ns).filter((p) => before.includes(p)), { timeout: 5000, interval: 50 }).toEqual([]);
    expect(await refuses('127.0.251.2')).toBe(true);
    expect(await refuses('127.0.251.3')).toBe(true);
    expect(fs.existsSync(rootDir)).toBe(true); // nobody ran stop()

    const next = await startLab([{ name: 'after-crash' }], { subnet: '127.0.251.', parentDir });
    try {
      expect(fs.existsSync(rootDir)).toBe(false);
      expect(next.node('after-crash').isUp()).toBe(true);
    } finally {
      await next.stop();
    }
  });
});
