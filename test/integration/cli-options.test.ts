import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './cli.js';
import { tempDir } from '../fakes/temp-dir.js';

/**
 * Option errors are bad input for every subcommand: exit 2, as the README promises, and with --json one JSON object on
 * stdout and nothing else there. The built CLI, as a user runs it (no node is contacted: the inventory is never read).
 */

const dir = tempDir('options');
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const inventory = join(dir, 'inventory.yaml');
writeFileSync(inventory, 'cluster: {name: lab}\nnodes: [{name: pi-1, host: 127.0.0.1, role: server}]\nworkloads: {revue: false, monitoring: false}\n');

// [what, arguments]
const BAD: [string, string[]][] = [
  ['up: unknown flag', ['up', '-i', inventory, '--bogus']],
  ['up: --concurrency 0', ['up', '-i', inventory, '--concurrency', '0']],
  ['up: --concurrency without its value', ['up', '-i', inventory, '--concurrency']],
  ['plan: -i without its value', ['plan', '-i']],
  ['plan: --concurrency not a number', ['plan', '-i', inventory, '--offline', '--concurrency', 'ten']],
  ['status: unknown flag', ['status', '-i', inventory, '--bogus']],
  ['status: --state-dir without its value', ['status', '-i', inventory, '--state-dir']],
  ['render: missing -o', ['render', '-i', inventory]],
  ['render: -o without its value', ['render', '-i', inventory, '-o']],
  ['init: unknown flag', ['init', '--bogus']],
  ['init: -o without its value', ['init', '-o']],
  ['kubeconfig: unknown flag', ['kubeconfig', '-i', inventory, '--bogus']],
  ['flash: missing --boot and --node', ['flash', '-i', inventory]],
  ['flash: --image not a choice', ['flash', '-i', inventory, '--boot', dir, '--node', 'pi-1', '--image', 'buster']],
  ['an unknown command', ['frobnicate']],
  ['an unknown flag before any command', ['--bogus']],
];

describe('option errors exit 2 for every subcommand', () => {
  it.each(BAD)('%s → exit 2, the reason on stderr, nothing on stdout', async (_what, args) => {
    const r = await runCli(args, { cwd: dir, timeoutMs: 30_000 });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/^error: /m);
    expect(r.stdout).toBe('');
  });

  it.each(BAD)('%s, with --json → exit 2 and one JSON object on stdout', async (_what, args) => {
    // Right after the command, so that it is no option's value.
    const r = await runCli([args[0]!, '--json', ...args.slice(1)], { cwd: dir, timeoutMs: 30_000 });
    expect(r.code, r.stderr).toBe(2);
    const report = JSON.parse(r.stdout) as { ok: boolean; exitCode: number; error: { code: string; message: string; hint: string } };
    expect(report).toMatchObject({ ok: false, exitCode: 2 });
    expect(report.error.code).toMatch(/^commander\./);
    expect(report.error.message).not.toBe('');
    expect(report.error.hint).toMatch(/^see revue-pi /);
  });

  it('up --replace-node naming no node of the inventory: exit 2 before any connection, saying which nodes it has', async () => {
    const message = `--replace-node pi-9: ${inventory} lists no node named pi-9 (its nodes: pi-1); nothing was contacted. Name the rebuilt or re-imaged node as the inventory names it.`;
    const r = await runCli(['up', '-i', inventory, '--yes', '--replace-node', 'pi-1,pi-9'], { cwd: dir, timeoutMs: 30_000 });
    expect([r.code, r.stderr, r.stdout]).toEqual([2, `${message}\n`, '']);
    const json = await runCli(['up', '--json', '-i', inventory, '--yes', '--replace-node', 'pi-1', '--replace-node', 'pi-9'], { cwd: dir, timeoutMs: 30_000 });
    expect([json.code, JSON.parse(json.stdout)]).toEqual([2, { ok: false, exitCode: 2, error: { message } }]);
    // --replace-server, its former name, is still read (hidden from --help), as the same list.
    const old = await runCli(['up', '-i', inventory, '--yes', '--replace-server', 'pi-9'], { cwd: dir, timeoutMs: 30_000 });
    expect([old.code, old.stderr, old.stdout]).toEqual([2, `${message}\n`, '']);
  });

  it('names the command in the hint', async () => {
    const r = await runCli(['up', '-i', inventory, '--concurrency', '0', '--json'], { cwd: dir, timeoutMs: 30_000 });
    expect(JSON.parse(r.stdout)).toEqual({
      ok: false,
      exitCode: 2,
      error: {
        code: 'commander.invalidArgument',
        message: "option '--concurrency <n>' argument '0' is invalid. must be a whole number from 1 to 256.",
        hint: 'see revue-pi up --help',
      },
    });
  });

  it('help and version are no errors: exit 0', async () => {
    for (const args of [['--help'], ['up', '--help'], ['-V']]) {
      const r = await runCli(args, { cwd: dir, timeoutMs: 30_000 });
      expect([args, r.code]).toEqual([args, 0]);
    }
  });
});
