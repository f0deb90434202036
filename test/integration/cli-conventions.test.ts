/**
 * The built CLI and the conventions of the platform and the terminal (no lab: nothing is contacted).
 */
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCli } from './cli.js';

const EXAMPLE = fileURLToPath(new URL('../../inventory.example.yaml', import.meta.url));
/** An environment with no XDG or revue-pi folders set: every default lands under HOME. */
const bareEnv = (home: string) => ({ HOME: home, XDG_STATE_HOME: '', XDG_CONFIG_HOME: '', REVUE_PI_STATE_DIR: '', REVUE_PI_SSH_CONFIG: '', KUBECONFIG: '' });

describe('files where the platform expects them', () => {
  it('plan --offline writes nothing under the home folder (no state folder, no log)', async () => {
    const home = mkdtempSync(join(tmpdir(), 'revue-pi-home-'));
    const result = await runCli(['plan', '--offline', '-i', EXAMPLE], { env: bareEnv(home) });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('Plan for cluster revue');
    expect(readdirSync(home)).toEqual([]);
  });
});
