import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './cli.js';
import { tempDir } from '../fakes/temp-dir.js';

/**
 * What the built CLI does with an inventory before it contacts anything: warnings in --json and in the run log, bad
 * values and unset secrets refused with exit 2. The only address named is 127.0.0.1, on a port nothing listens on.
 */

const dir = tempDir('cli-inventory');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const BASE = `cluster: {name: lab}
ssh: {port: 1, connectRetries: 0, connectTimeoutSeconds: 2, useAgent: false}
nodes:
  - {name: pi-1, host: 127.0.0.1, role: server}
  - {name: pi-2, host: 127.0.0.2, role: server}
workloads: {revue: false, monitoring: false}
`;

function write(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

describe('inventory warnings reach --json and the run log', () => {
  it('plan --offline: the even server count is in inventoryWarnings, with its line (offline writes no log)', async () => {
    const inventory = write('two-servers.yaml', BASE);
    const stateDir = join(dir, 'state-plan');
    const r = await runCli(['plan', '--offline', '--json', '-i', inventory, '--state-dir', stateDir], { timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as { inventoryWarnings: { path: string; line: number; severity: string; message: string }[]; logFile?: string };
    expect(report.inventoryWarnings).toEqual([
      expect.objectContaining({ path: 'nodes', line: 4, severity: 'warning', message: expect.stringContaining('2 nodes have role: server') }),
    ]);
    expect(report.logFile).toBeUndefined();
  });

  it('status --json: the warnings are there too, and in the run log', async () => {
    const inventory = write('two-servers-status.yaml', BASE);
    const stateDir = join(dir, 'state-status');
    const r = await runCli(['status', '--json', '-i', inventory, '--state-dir', stateDir, '--kubeconfig', join(dir, 'no-kubeconfig')], { timeoutMs: 60_000 });
    const report = JSON.parse(r.stdout) as { inventoryWarnings: { path: string }[] };
    expect(report.inventoryWarnings.map((w) => w.path)).toEqual(['nodes']);
    const logs = readdirSync(join(stateDir, 'logs')).map((f) => readFileSync(join(stateDir, 'logs', f), 'utf8'));
    expect(logs.join('')).toMatch(/inventory warning: .*two-servers-status\.yaml:4:\d+ nodes: 2 nodes have role: server/);
  });
});

describe('refused before any connection, exit 2, with the line', () => {
  it.each([
    [
      'a user in the host',
      BASE.replace('host: 127.0.0.1', 'host: "pi@127.0.0.1"'),
      'nodes[0].host',
      4,
      /holds a user — write host: 127\.0\.0\.1 and put the user in ssh\.user/,
    ],
    [
      'a port in the host',
      BASE.replace('host: 127.0.0.1', 'host: "127.0.0.1:2222"'),
      'nodes[0].host',
      4,
      /holds a port — write host: 127\.0\.0\.1 and put the port in ssh\.port \(port: 2222\)/,
    ],
    ['an octet over 255', BASE.replace('host: 127.0.0.1', 'host: 127.0.0.300'), 'nodes[0].host', 4, /300 is over 255/],
    ['a reserved namespace', BASE.replace('revue: false', 'revue: false, namespace: kube-system'), 'workloads.namespace', 6, /is reserved/],
    [
      'a sudo password variable that is not set',
      BASE.replace('useAgent: false}', 'useAgent: false, sudoPasswordEnv: REVUE_PI_TEST_NOT_SET}'),
      'ssh.sudoPasswordEnv',
      2,
      /REVUE_PI_TEST_NOT_SET, which is not set/,
    ],
  ])('%s', async (_what, text, path, line, message) => {
    const inventory = write('bad.yaml', text);
    for (const command of ['plan', 'up', 'status']) {
      const r = await runCli([command, '--json', '-i', inventory, '--state-dir', join(dir, 'state-bad')], { timeoutMs: 60_000 });
      expect([command, r.code], r.stderr + r.stdout).toEqual([command, 2]);
      const out = JSON.parse(r.stdout) as { exitCode: number; error: { file: string; issues: { path: string; line: number; message: string }[] } };
      expect(out.exitCode).toBe(2);
      expect(out.error.issues).toEqual([expect.objectContaining({ path, line, message: expect.stringMatching(message) })]);
    }
  });
});
