/**
 * The whole text of `revue-pi plan --offline` for inventory.example.yaml, as a newcomer reads it (file snapshot in
 * test/integration/plan/), with the points it must make asserted one by one first.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { runCli } from './cli.js';
import { tempDir } from '../fakes/temp-dir.js';

const EXAMPLE = fileURLToPath(new URL('../../inventory.example.yaml', import.meta.url));

it('plan --offline for the example inventory: assumed facts, each change once, what runs where, the kubeconfig, what next', async () => {
  const home = tempDir('home');
  const env = { HOME: home, XDG_STATE_HOME: '', XDG_CONFIG_HOME: '', REVUE_PI_STATE_DIR: '', REVUE_PI_SSH_CONFIG: '', KUBECONFIG: '' };
  const result = await runCli(['plan', '--offline', '-i', 'inventory.example.yaml'], { env, cwd: join(EXAMPLE, '..') });
  expect(result.code, result.stderr).toBe(0);
  const text = result.stdout;
  // Assumed, not found: nothing was contacted.
  expect(text).toContain('Each Pi is ASSUMED to be as Raspberry Pi Imager leaves it');
  expect(text.match(/^ {2}assumed: Raspberry Pi 5/gm)).toHaveLength(3);
  expect(text).not.toMatch(/^ {2}found:/m);
  // Step headings in words, not module names.
  expect(text).not.toMatch(/prepare\/|cluster\//);
  expect(text.match(/^ {2}Boot configuration and hostname:$/gm)).toHaveLength(3);
  // Each change once: no line repeated within a node, and the progress on stderr does not list them again.
  for (const node of text.split('\n\n').filter((b) => /^pi-\d/.test(b))) {
    const lines = node.split('\n').filter((l) => l.startsWith('    - '));
    expect(new Set(lines).size).toBe(lines.length);
  }
  expect(result.stderr).not.toContain('install K3s');
  // What runs, where.
  expect(text).toContain('Revue (namespace revue): the services alarm, auth, device, frontend, location, log, monitoring,');
  expect(text).toContain('kafka-1 at 192.168.1.202, kafka-2 at 192.168.1.203');
  expect(text).toContain('The media server (video streams) at 192.168.1.201.');
  expect(text).toContain('routes the web names below at 192.168.1.200.');
  expect(text).toContain('    Revue              http://frontend.revue.local/');
  // This computer, and what next.
  expect(text).toContain('up merges the cluster\'s kubeconfig into ~/.kube/config as the context "revue"');
  expect(text.trimEnd().split('\n').slice(-2)).toEqual([
    'Next: revue-pi plan -i inventory.example.yaml to check the real Pis over SSH, then revue-pi up -i',
    '  inventory.example.yaml to make these changes.',
  ]);
  expect(Math.max(...text.split('\n').map((l) => l.length))).toBeLessThanOrEqual(100);
  await expect(text).toMatchFileSnapshot('plan/offline-example.txt');
});
