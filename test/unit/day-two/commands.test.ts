import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBackupCommand } from '../../../cli/commands/backup.js';
import { runRemoveNodeCommand } from '../../../cli/commands/remove-node.js';
import { tempDir } from '../../fakes/temp-dir.js';

function inventoryFile(): { file: string; stateDir: string } {
  const dir = tempDir('day-two-cmd');
  const file = join(dir, 'inventory.yaml');
  writeFileSync(file, 'cluster: {name: home}\nnodes:\n  - {name: pi-1, host: 192.168.1.11, role: server}\nnetwork: {metallb: {enabled: false}}\n');
  return { file, stateDir: join(dir, 'state') };
}

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { stdout: (t: string) => void out.push(t), stderr: (t: string) => void err.push(t) } };
}

const noConnection = async (): Promise<never> => {
  throw new Error('test: no connection may be opened');
};

describe('command fronts', () => {
  it.each([
    ['no terminal and no --yes', { interactive: false }],
    ['--json at a terminal without --yes (no prompt can be answered)', { interactive: true, json: true }],
  ])('remove-node refuses with exit 2 before reading anything: %s', async (_what, extra) => {
    const { out, err, io } = capture();
    const code = await runRemoveNodeCommand({
      name: 'pi-2',
      inventory: '/nonexistent/inventory.yaml',
      drainTimeout: 120,
      openTransport: noConnection,
      ...extra,
      ...io,
    });
    expect(code).toBe(2);
    expect(err.join('')).toBe(
      'remove-node changes the cluster and wipes K3s on pi-2: run it at a terminal to be asked, or pass --yes (see the plan first with --dry-run). Nothing was contacted.\n',
    );
    expect(out).toEqual([]);
  });

  it('remove-node refuses a name that is no node name (exit 2)', async () => {
    const { err, io } = capture();
    expect(
      await runRemoveNodeCommand({ name: 'pi-2;reboot', inventory: '/nonexistent', drainTimeout: 120, yes: true, openTransport: noConnection, ...io }),
    ).toBe(2);
    expect(err.join('')).toContain('"pi-2;reboot" is not a node name');
  });

  it('remove-node with a bad inventory: exit 2, no connection', async () => {
    const { err, io } = capture();
    expect(
      await runRemoveNodeCommand({ name: 'pi-2', inventory: '/nonexistent/inventory.yaml', drainTimeout: 120, yes: true, openTransport: noConnection, ...io }),
    ).toBe(2);
    expect(err.join('')).toContain('/nonexistent/inventory.yaml');
  });

  it('backup --list reads the state directory only, also as JSON', async () => {
    const { file, stateDir } = inventoryFile();
    const text = capture();
    expect(await runBackupCommand({ inventory: file, list: true, keep: 5, stateDir, openTransport: noConnection, ...text.io })).toBe(0);
    expect(text.out.join('')).toBe(`No backups in ${join(stateDir, 'backups')} yet: run revue-pi backup.\n`);
    mkdirSync(join(stateDir, 'backups', 'not-ours'), { recursive: true });
    const json = capture();
    expect(await runBackupCommand({ inventory: file, list: true, json: true, keep: 5, stateDir, openTransport: noConnection, ...json.io })).toBe(0);
    expect(JSON.parse(json.out.join(''))).toEqual({ cluster: 'home', folder: join(stateDir, 'backups'), backups: [] });
  });

  it('backup with no server that answers: exit 1, each reason named', async () => {
    const { file, stateDir } = inventoryFile();
    const { err, io } = capture();
    expect(await runBackupCommand({ inventory: file, keep: 5, stateDir, openTransport: noConnection, ...io })).toBe(1);
    expect(err.join('')).toBe(
      'no server of cluster home could be backed up: pi-1: test: no connection may be opened. Run revue-pi up (or revue-pi status) to see why.\n',
    );
  });

  it("backup and remove-node are refused while another run holds the cluster's lock, naming it, before any connection; --dry-run needs no lock", async () => {
    const { acquireStateLock } = await import('../../../core/lock.js');
    const { file, stateDir } = inventoryFile();
    mkdirSync(stateDir, { recursive: true });
    const held = await acquireStateLock(stateDir, 'home', 'up', { signals: false });
    const holder = new RegExp(`^Another revue-pi run is working on cluster home: \`up\`, pid ${process.pid} on host \\S+`);
    try {
      const backup = capture();
      expect(await runBackupCommand({ inventory: file, stateDir, keep: 5, openTransport: noConnection, ...backup.io })).toBe(1);
      expect(backup.err.join('')).toMatch(holder);
      const remove = capture();
      expect(
        await runRemoveNodeCommand({ name: 'pi-2', inventory: file, stateDir, drainTimeout: 120, yes: true, openTransport: noConnection, ...remove.io }),
      ).toBe(1);
      expect(remove.err.join('')).toMatch(holder);
      // A dry run only reads: the lock does not stop it (it goes on to contact the node, which this test double refuses).
      const dry = capture();
      await runBackupCommand({ inventory: file, stateDir, keep: 5, dryRun: true, openTransport: noConnection, ...dry.io }).catch(() => 1);
      expect(dry.err.join('')).not.toMatch(/Another revue-pi run/);
    } finally {
      held.release();
    }
  });
});
