import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { finishRun, refuseBadInput, runOnCluster, type ClusterRun } from '../../../../cli/commands/day-two-front.js';
import { loadInventory } from '../../../../core/inventory/parse.js';
import { acquireStateLock } from '../../../../core/lock.js';
import type { Transport } from '../../../../core/remote/transport.js';
import { tempDir } from '../../../fakes/temp-dir.js';

function setUp() {
  const dir = tempDir('day-two-front');
  const file = join(dir, 'inventory.yaml');
  writeFileSync(file, 'cluster: {name: home}\nnodes:\n  - {name: pi-1, host: 192.168.1.11, role: server}\nnetwork: {metallb: {enabled: false}}\n');
  const out: string[] = [];
  const err: string[] = [];
  return {
    file,
    stateDir: join(dir, 'state'),
    inventory: loadInventory(file).inventory,
    out,
    err,
    streams: { out: (t: string) => void out.push(t), err: (t: string) => void err.push(t) },
  };
}

/** A test double: the transport seam, which no test here may open. */
const noConnection = async (): Promise<Transport> => {
  throw new Error('test: no connection may be opened');
};

describe('runOnCluster', () => {
  it('makes the state folder 0700 and gives the work a run log named by the command, headed by the command line', async () => {
    const t = setUp();
    let given: ClusterRun | undefined;
    const code = await runOnCluster(
      'backup',
      'revue-pi backup -i inv.yaml',
      t.inventory,
      { inventory: t.file, stateDir: t.stateDir, openTransport: noConnection },
      t.streams,
      async (run) => {
        given = run;
        run.progress('a step');
        return 0;
      },
    );
    expect(code).toBe(0);
    expect(statSync(t.stateDir).mode & 0o777).toBe(0o700);
    expect(given!.stateDir).toBe(t.stateDir);
    expect(given!.open).toBe(noConnection);
    expect(given!.inventory.nodes.map((n) => n.host)).toEqual(['192.168.1.11']);
    expect(given!.log.path).toMatch(new RegExp(`^${join(t.stateDir, 'logs', 'backup-')}`));
    expect(readFileSync(given!.log.path!, 'utf8')).toContain('revue-pi backup -i inv.yaml');
    expect(t.err).toEqual(['a step\n']);
  });

  it("refuses while another run holds the cluster's lock (exit 1, the work never runs); a dry run takes no lock", async () => {
    const t = setUp();
    mkdirSync(t.stateDir, { recursive: true });
    const held = await acquireStateLock(t.stateDir, 'home', 'up', { signals: false });
    try {
      let ran = 0;
      const work = async () => (ran++, 0);
      const opts = { inventory: t.file, stateDir: t.stateDir, openTransport: noConnection };
      expect(await runOnCluster('reset', 'revue-pi reset', t.inventory, opts, t.streams, work)).toBe(1);
      expect(ran).toBe(0);
      expect(t.err.join('')).toMatch(/^Another revue-pi run is working on cluster home: `up`/);
      expect(await runOnCluster('reset', 'revue-pi reset --dry-run', t.inventory, { ...opts, dryRun: true }, t.streams, work)).toBe(0);
      expect(ran).toBe(1);
    } finally {
      held.release();
    }
  });
});

describe('refuseBadInput and finishRun', () => {
  it('refuses with exit 2: the message on stderr, or with --json as one object on stdout', () => {
    const t = setUp();
    expect(refuseBadInput('No.', false, t.streams)).toBe(2);
    expect(refuseBadInput('No.', true, t.streams)).toBe(2);
    expect(t.err).toEqual(['No.\n']);
    expect(JSON.parse(t.out.join(''))).toEqual({ ok: false, exitCode: 2, error: { message: 'No.' } });
  });

  it('logs the exit code and prints the result as JSON with --json, else as the command tells it', async () => {
    const t = setUp();
    await runOnCluster(
      'backup',
      'revue-pi backup',
      t.inventory,
      { inventory: t.file, stateDir: t.stateDir, openTransport: noConnection },
      t.streams,
      async (run) => {
        expect(finishRun(run, { exitCode: 3 }, true, t.streams.out, () => t.out.push('human'))).toBe(3);
        expect(finishRun(run, { exitCode: 0 }, false, t.streams.out, () => t.out.push('human'))).toBe(0);
        expect(existsSync(run.log.path!)).toBe(true);
        expect(readFileSync(run.log.path!, 'utf8')).toMatch(/finished: exit 3[\s\S]*finished: exit 0/);
        return 0;
      },
    );
    expect(t.out).toEqual([JSON.stringify({ exitCode: 3 }, null, 2) + '\n', 'human']);
  });
});
