import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runRestoreCommand } from '../../../cli/commands/restore.js';
import { tempDir } from '../../fakes/temp-dir.js';

const NAME = 'revue-pi-pi-1-1767225600';

/** An inventory and a state dir holding one backup as `revue-pi backup` writes it (the sha256 of each file in backup.json). */
function setup(opts: { damage?: boolean } = {}): { file: string; stateDir: string } {
  const dir = tempDir('restore-cmd');
  const file = join(dir, 'inventory.yaml');
  writeFileSync(file, 'cluster: {name: home}\nnodes:\n  - {name: pi-1, host: 192.168.1.11, role: server}\nnetwork: {metallb: {enabled: false}}\n');
  const stateDir = join(dir, 'state');
  const folder = join(stateDir, 'backups', NAME);
  mkdirSync(folder, { recursive: true });
  const contents: Record<string, string> = {
    snapshot: 'etcd snapshot bytes\n',
    token: `K10${'a'.repeat(64)}::server:${'b'.repeat(64)}\n`,
    'config.yaml': 'node-name: pi-1\n',
  };
  const files: Record<string, { size: number; sha256: string; from: string }> = {};
  for (const [f, text] of Object.entries(contents)) {
    writeFileSync(join(folder, f), text, { mode: 0o600 });
    files[f] = { size: text.length, sha256: createHash('sha256').update(text).digest('hex'), from: `/remote/${f}` };
  }
  if (opts.damage) writeFileSync(join(folder, 'snapshot'), 'edited\n');
  const manifest = { createdBy: 'revue-pi', cluster: 'home', name: NAME, node: 'pi-1', createdAt: '2026-01-01T00:00:00Z', files };
  writeFileSync(join(folder, 'backup.json'), JSON.stringify(manifest));
  return { file, stateDir };
}

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { stdout: (t: string) => void out.push(t), stderr: (t: string) => void err.push(t) } };
}

const noConnection = async (): Promise<never> => {
  throw new Error('test: no connection may be opened');
};

describe('revue-pi restore, before any connection', () => {
  it('no terminal and no --yes: exit 2, saying why and what to do', async () => {
    const { file, stateDir } = setup();
    const { out, err, io } = capture();
    expect(await runRestoreCommand({ snapshot: NAME, inventory: file, stateDir, interactive: false, openTransport: noConnection, ...io })).toBe(2);
    expect(err.join('')).toBe(
      'restore replaces everything in cluster home with the snapshot and stops K3s on every node: it asks for the cluster name to be typed, but its standard input is not a terminal, so it cannot ask. Nothing was contacted. Run it at a terminal, or pass --yes (see the plan first with --dry-run).\n',
    );
    expect(out).toEqual([]);
  });

  it('--json at a terminal without --yes: exit 2 as one JSON object (no prompt can be answered)', async () => {
    const { file, stateDir } = setup();
    const { out, io } = capture();
    expect(await runRestoreCommand({ snapshot: NAME, inventory: file, stateDir, interactive: true, json: true, openTransport: noConnection, ...io })).toBe(2);
    expect(JSON.parse(out.join(''))).toMatchObject({ ok: false, exitCode: 2, error: { message: expect.stringContaining('(or --json is set)') } });
  });

  it('an unknown backup, or one whose files do not match backup.json: exit 2', async () => {
    const { file, stateDir } = setup();
    const unknown = capture();
    expect(await runRestoreCommand({ snapshot: 'revue-pi-pi-1-1', inventory: file, stateDir, yes: true, openTransport: noConnection, ...unknown.io })).toBe(2);
    expect(unknown.err.join('')).toBe(
      `there is no backup revue-pi-pi-1-1 in ${join(stateDir, 'backups')}. Backups there: ${NAME}. (revue-pi backup --list shows them.)\n`,
    );
    const damaged = setup({ damage: true });
    const bad = capture();
    expect(
      await runRestoreCommand({ snapshot: NAME, inventory: damaged.file, stateDir: damaged.stateDir, yes: true, openTransport: noConnection, ...bad.io }),
    ).toBe(2);
    expect(bad.err.join('')).toBe(
      `${join(damaged.stateDir, 'backups', NAME, 'snapshot')} (etcd snapshot) does not match the sha256 in backup.json: the backup is damaged or was edited, and is not restored.\n`,
    );
  });
});
