import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { K3S_PROBE_SECTIONS, freshK3sFacts, parseK3sFacts } from '../../../cluster/facts.js';
import { SERVER_TOKEN_PATH, TOKEN_FILE_PATH } from '../../../cluster/paths.js';
import { sha256Hex, tokenFileContent, tokenSecret } from '../../../cluster/token.js';
import { buildProbeScript, parseProbeOutput } from '../../../provision/steps/probe.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('parseK3sFacts', () => {
  it('reads an installed agent (k3s --version prints the release and the Go version)', () => {
    const config = 'node-name: pi-2\nserver: https://192.168.1.101:6443\n';
    const sections = new Map([
      ['k3s_version', 'k3s version v1.33.5+k3s1 (fab4a8a7)\ngo version go1.24.6'],
      ['k3s_config', b64(config)],
      ['k3s_token_sha256', 'a'.repeat(64)],
      ['k3s_server_token_sha256', ''],
      ['k3s_units', 'k3s-agent active'],
      ['k3s_node_password', 'present'],
    ]);
    expect(parseK3sFacts(sections)).toEqual({
      installedVersion: 'v1.33.5+k3s1',
      config,
      tokenFileSha256: 'a'.repeat(64),
      serverTokenSha256: undefined,
      unit: 'k3s-agent',
      units: ['k3s-agent'],
      active: true,
      nodePassword: true,
    });
  });

  it('a failed server unit is installed but not active', () => {
    const facts = parseK3sFacts(new Map([['k3s_version', 'k3s version v1.32.9+k3s1 (1234abcd)'], ['k3s_units', 'k3s failed']]));
    expect(facts).toMatchObject({ installedVersion: 'v1.32.9+k3s1', unit: 'k3s', units: ['k3s'], active: false, nodePassword: false });
  });

  it('a node with nothing installed equals the fresh facts', () => {
    const empty = new Map(K3S_PROBE_SECTIONS.map((s) => [s.name, ''] as [string, string]));
    expect(parseK3sFacts(empty)).toEqual({ ...freshK3sFacts(), config: undefined, installedVersion: undefined, tokenFileSha256: undefined, serverTokenSha256: undefined });
  });

  it('ignores garbage where a hash should be', () => {
    expect(parseK3sFacts(new Map([['k3s_token_sha256', 'sha256sum: permission denied']])).tokenFileSha256).toBeUndefined();
  });
});

describe('the probe sections, run by /bin/sh on files in a temp folder', () => {
  const dir = mkdtempSync(join(tmpdir(), 'revue-pi-k3s-probe-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Runs the token sections with their paths moved into `dir`. */
  function probeTokens(tokenFile: string | undefined, serverToken: string | undefined) {
    const local = { token: join(dir, 'revue-pi-token'), server: join(dir, 'server-token') };
    rmSync(local.token, { force: true });
    rmSync(local.server, { force: true });
    if (tokenFile !== undefined) writeFileSync(local.token, tokenFile);
    if (serverToken !== undefined) writeFileSync(local.server, serverToken);
    const sections = K3S_PROBE_SECTIONS.filter((s) => s.name.includes('token')).map((s) => ({
      name: s.name,
      script: s.script.split(TOKEN_FILE_PATH).join(local.token).split(SERVER_TOKEN_PATH).join(local.server),
    }));
    const out = execFileSync('sh', ['-c', buildProbeScript(sections)], { encoding: 'utf8' });
    return parseK3sFacts(parseProbeOutput(out));
  }

  it('hashes the token file exactly as revue-pi writes it', () => {
    const token = 'f'.repeat(64);
    expect(probeTokens(tokenFileContent(token), undefined).tokenFileSha256).toBe(sha256Hex(tokenFileContent(token)));
  });

  it('hashes only the secret of a full server token, with or without a trailing newline', () => {
    const secret = '0123abcd'.repeat(8);
    const full = `K10${'9'.repeat(64)}::server:${secret}`;
    expect(tokenSecret(full)).toBe(secret);
    expect(probeTokens(undefined, full).serverTokenSha256).toBe(sha256Hex(secret));
    expect(probeTokens(undefined, `${full}\n`).serverTokenSha256).toBe(sha256Hex(secret));
    expect(probeTokens(undefined, secret).serverTokenSha256).toBe(sha256Hex(secret));
  });

  it('reports nothing for missing files', () => {
    const facts = probeTokens(undefined, undefined);
    expect(facts.tokenFileSha256).toBeUndefined();
    expect(facts.serverTokenSha256).toBeUndefined();
  });
});
