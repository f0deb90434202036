/**
 * `--help` of the built CLI, whole, for every command: what it does for the Pis, K3s and Revue, two or three
 * examples, and the files it reads and writes. The full texts are file snapshots (test/integration/help/),
 * reviewed as text in every change that touches them.
 */
import { describe, expect, it } from 'vitest';
import { runCli } from './cli.js';

const COMMANDS = ['', 'up', 'plan', 'status', 'init', 'kubeconfig', 'render', 'flash'];

describe('--help', () => {
  it.each(COMMANDS)('revue-pi %s --help teaches: a summary, examples, files read and written', async (command) => {
    const result = await runCli([...(command ? [command] : []), '--help']);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    const text = result.stdout;
    const section = (name: string) => text.slice(text.indexOf(`\n${name}:\n`) + name.length + 3).split('\n\n')[0] ?? '';
    expect(text).toMatch(/\n\n(Turn|Prepare|Show|Write|Fetch) [^\n]*(Pi|K3s|Revue)/);
    const examples = text.slice(text.indexOf('\nExamples:\n'), text.indexOf('\nReads:\n'));
    expect(examples.match(/^ {2}revue-pi /gm)?.length ?? 0).toBeGreaterThanOrEqual(2);
    expect(examples.match(/^ {2}revue-pi /gm)?.length ?? 0).toBeLessThanOrEqual(3);
    expect(section('Reads').trim()).not.toBe('');
    expect(section('Writes').trim()).not.toBe('');
    expect(Math.max(...text.split('\n').map((l) => l.length))).toBeLessThanOrEqual(110);
    await expect(text).toMatchFileSnapshot(`help/${command || 'revue-pi'}.txt`);
  });
});
