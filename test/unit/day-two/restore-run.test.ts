import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LoadedBackup } from '../../../cluster/day-two/restore-backup.js';
import { runRestore } from '../../../cluster/day-two/restore-run.js';
import { RESTORE_RECORD_PATH, formatRestoreRecord } from '../../../cluster/day-two/restore-record.js';
import { RunLog } from '../../../core/log.js';
import type { InventoryNode } from '../../../core/inventory/schema.js';
import { FakeTransport, ok } from '../../fakes/fake-transport.js';
import { tempDir } from '../../fakes/temp-dir.js';
import { inventory } from '../cluster/helpers.js';

const NAME = 'revue-pi-pi-1-1767225600';
const TOKEN = `K10${'a'.repeat(64)}::server:${'b'.repeat(64)}\n`;
const RUN = '20260102T030405Z';
const INVENTORY = inventory({ cluster: { name: 'home' } }, [
  { name: 'pi-1', host: '192.168.1.11', role: 'server' },
  { name: 'pi-2', host: '192.168.1.12', role: 'server' },
  { name: 'pi-4', host: '192.168.1.14', role: 'agent' },
]);

/** TEST DOUBLE of a server: answers the probe's sections (the real probe script is built and its sections parsed). */
function server(name: string, sections: { datastore: string; aside?: string; reset_flag?: string }, files: Record<string, string> = {}): FakeTransport {
  const t = new FakeTransport(name, files);
  t.on(
    (script) => script.includes('@@revue-pi@@ datastore'),
    (script) => {
      const out = [`@@revue-pi@@ datastore\n${sections.datastore}\n`, `@@revue-pi@@ aside\n${sections.aside ?? ''}\n`];
      if (script.includes('@@revue-pi@@ reset_flag')) out.push(`@@revue-pi@@ reset_flag\n${sections.reset_flag ?? ''}\n`, '@@revue-pi@@ snapshot\n\n');
      return ok(out.join('\n'));
    },
  );
  return t;
}

function loaded(): LoadedBackup {
  const folder = tempDir('restore-run');
  writeFileSync(join(folder, 'token'), TOKEN, { mode: 0o600 });
  const backup = { name: NAME, cluster: 'home', node: 'pi-1', createdAt: '2026-01-01T00:00:00Z', snapshotSha256: 'c'.repeat(64) };
  return { folder, backup, manifest: { createdBy: 'revue-pi', ...backup, files: {} } };
}

describe('runRestore reads what an interrupted restore left (test doubles of the nodes)', () => {
  it('the record, K3s reset flag and the aside folders become a resume plan: s1 not reset again, pi-2 only started', async () => {
    const record = formatRestoreRecord({ backup: NAME, snapshotSha256: 'c'.repeat(64), run: RUN, reset: 'started' });
    const nodes: Record<string, FakeTransport> = {
      'pi-1': server('pi-1', { datastore: 'etcd', reset_flag: 'reset-flag' }, { '/var/lib/rancher/k3s/server/token': TOKEN, [RESTORE_RECORD_PATH]: record }),
      'pi-2': server('pi-2', { datastore: 'none', aside: `/var/lib/rancher/k3s/server/db-before-restore-${RUN}` }),
      'pi-4': new FakeTransport('pi-4'),
    };
    const stateDir = tempDir('restore-run-state');
    const result = await runRestore({
      inventory: INVENTORY,
      loaded: loaded(),
      dryRun: true,
      open: async (n: InventoryNode) => nodes[n.name]!,
      log: new RunLog(stateDir, 'restore'),
      progress: () => undefined,
      now: () => new Date('2026-01-03T00:00:00Z'),
    });
    expect(result.error).toBeUndefined();
    expect(result.steps.map((s) => `${s.kind}${s.node ? ` ${s.node}` : ''}`)).toEqual([
      'start-first-server pi-1',
      'start-server pi-2',
      'start-agent pi-4',
      'check',
      'clear-record pi-1',
    ]);
    if (result.plan?.refused !== undefined) throw new Error('refused');
    expect(result.plan?.run).toBe(RUN);
    expect(nodes['pi-1']!.reads).toContain(RESTORE_RECORD_PATH);
    expect(Object.values(nodes).flatMap((t) => t.unexpected)).toEqual([]);
    // A dry run changes nothing.
    expect(Object.values(nodes).flatMap((t) => t.writes)).toEqual([]);
  });
});
