import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runUpgradeCommand } from '../../../cli/commands/upgrade.js';
import { tempDir } from '../../fakes/temp-dir.js';

function inventoryFile(k3s: string): string {
  const file = join(tempDir('upgrade-cmd'), 'inventory.yaml');
  writeFileSync(file, `cluster: {name: home}\nk3s: ${k3s}\nnodes:\n  - {name: pi-1, host: 192.168.1.11, role: server}\nnetwork: {metallb: {enabled: false}}\n`);
  return file;
}

const noConnection = async (): Promise<never> => {
  throw new Error('test: no connection may be opened');
};

async function run(opts: Partial<Parameters<typeof runUpgradeCommand>[0]> & { inventory: string }) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runUpgradeCommand({
    drainTimeout: 120,
    agentBatch: 2,
    openTransport: noConnection,
    stdout: (t) => void out.push(t),
    stderr: (t) => void err.push(t),
    ...opts,
  });
  return { code, out: out.join(''), err: err.join('') };
}

describe('revue-pi upgrade, the command front: exit 2 before any connection', () => {
  it('a --to that is no K3s release name', async () => {
    const r = await run({ inventory: '/nonexistent/inventory.yaml', to: '1.36', yes: true });
    expect(r).toEqual({
      code: 2,
      out: '',
      err: '--to 1.36 is not a K3s release name like v1.36.4+k3s1 (see https://github.com/k3s-io/k3s/releases). Nothing was contacted.\n',
    });
  });

  it('no terminal and no --yes (and --json at a terminal without --yes)', async () => {
    for (const extra of [{ interactive: false }, { interactive: true, json: true }]) {
      const r = await run({ inventory: '/nonexistent/inventory.yaml', ...extra });
      expect(r.code).toBe(2);
      expect(r.err).toBe(
        'upgrade restarts K3s on every node, one after the other: run it at a terminal to be asked, or pass --yes (see the plan first with --dry-run). Nothing was contacted.\n',
      );
    }
  });

  it('a channel and no --to: it asks for a version', async () => {
    const file = inventoryFile('{channel: stable}');
    const r = await run({ inventory: file, yes: true });
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      `${file} follows the release channel stable (k3s.channel) and names no version: give the one to upgrade to with --to (e.g. --to v1.36.4+k3s1), or set k3s.version. Nothing was contacted.\n`,
    );
  });
});
