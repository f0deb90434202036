import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  K3S_PROBE_SECTIONS,
  firstServerProbeSections,
  freshK3sFacts,
  k3sProbeSections,
  parseK3sFacts,
  readK3sVersionCache,
  ROOT_PROBE_REFUSED_EXIT,
  updateK3sVersionCache,
  type K3sVersionCacheEntry,
} from '../../../cluster/facts.js';
import { K3S_BINARY_PATH, K3S_CONFIG_PATH, NODE_PASSWORD_PATH, SERVER_TOKEN_PATH, TOKEN_FILE_PATH } from '../../../core/k3s-paths.js';
import { serverSecretSha256, sha256Hex, tokenFileContent, tokenSecret } from '../../../cluster/token.js';
import { buildProbeScript, parseProbeOutput } from '../../../core/remote/probe.js';
import { rawShell } from '../../../core/remote/shell.js';
import { tempDir } from '../../fakes/temp-dir.js';

/** A file as the probe's dump_file prints it. */
const dumped = (s: string) =>
  s
    .split(/(?<=\n)/)
    .map((line) => (line.endsWith('\n') ? `|${line.slice(0, -1)}` : `~${line}`))
    .join('\n');

describe('parseK3sFacts', () => {
  it('reads an installed agent (k3s --version prints the release and the Go version)', () => {
    const config = 'node-name: pi-2\nserver: https://192.168.1.101:6443\n';
    const sections = new Map([
      ['k3s_version', 'k3s version v1.33.5+k3s1 (fab4a8a7)\ngo version go1.24.6'],
      ['k3s_config', dumped(config)],
      ['k3s_token_hashes', `${'a'.repeat(64)}  /etc/rancher/k3s/revue-pi-token`],
      ['k3s_units', 'k3s-agent\nactive'],
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
    const facts = parseK3sFacts(
      new Map([
        ['k3s_version', 'k3s version v1.32.9+k3s1 (1234abcd)'],
        ['k3s_units', 'k3s\nfailed'],
      ]),
    );
    expect(facts).toMatchObject({ installedVersion: 'v1.32.9+k3s1', unit: 'k3s', units: ['k3s'], active: false, nodePassword: false });
  });

  it('a node with nothing installed equals the fresh facts', () => {
    const empty = new Map(K3S_PROBE_SECTIONS.map((s) => [s.name, ''] as [string, string]));
    expect(parseK3sFacts(empty)).toEqual({
      ...freshK3sFacts(),
      config: undefined,
      installedVersion: undefined,
      tokenFileSha256: undefined,
      serverTokenSha256: undefined,
    });
  });

  it('the first server also reads its kubeconfig and, when the API answers, the node list', () => {
    const sections = firstServerProbeSections();
    expect(sections.map((s) => s.name)).toEqual(['k3s_kubeconfig', 'k3s_api_nodes']);
    expect(sections[1]!.script.text).toBe(
      '[ -x /usr/local/bin/k3s ] && [ -f /etc/rancher/k3s/k3s.yaml ] && k3s kubectl get nodes -o json --request-timeout=10s',
    );
    const up = parseK3sFacts(
      new Map([
        ['k3s_kubeconfig', dumped('apiVersion: v1\n')],
        ['k3s_api_nodes', '{\n  "items": []\n}'],
      ]),
    );
    expect(up).toMatchObject({ kubeconfig: 'apiVersion: v1\n', apiNodesJson: '{\n  "items": []\n}' });
    const down = parseK3sFacts(
      new Map([
        ['k3s_kubeconfig', ''],
        ['k3s_api_nodes', 'The connection to the server 127.0.0.1:6443 was refused'],
      ]),
    );
    expect(down.kubeconfig).toBeUndefined();
    expect(down.apiNodesJson).toBeUndefined();
  });

  it('ignores garbage where a hash should be', () => {
    expect(parseK3sFacts(new Map([['k3s_token_hashes', 'sha256sum: /etc/rancher/k3s/revue-pi-token: Permission denied']])).tokenFileSha256).toBeUndefined();
  });
});

describe('the probe sections, run by /bin/sh on files in a temp folder', () => {
  const dir = tempDir('k3s-probe');

  /** Runs the token sections with their paths moved into `dir`. */
  function probeTokens(tokenFile: string | undefined, serverToken: string | undefined) {
    const local = { token: join(dir, 'revue-pi-token'), server: join(dir, 'server-token') };
    rmSync(local.token, { force: true });
    rmSync(local.server, { force: true });
    if (tokenFile !== undefined) writeFileSync(local.token, tokenFile);
    if (serverToken !== undefined) writeFileSync(local.server, serverToken);
    const sections = K3S_PROBE_SECTIONS.filter((s) => s.name.includes('token')).map((s) => ({
      name: s.name,
      script: rawShell(s.script.text.split(TOKEN_FILE_PATH).join(local.token).split(SERVER_TOKEN_PATH).join(local.server)),
    }));
    const out = execFileSync('sh', ['-c', buildProbeScript(sections).text], { encoding: 'utf8' });
    // sha256sum names the file it hashed: put the real path back, as on a node.
    return parseK3sFacts(parseProbeOutput(out.split(local.token).join(TOKEN_FILE_PATH)));
  }

  it('hashes both token files with one sha256sum, each under its own name', () => {
    const token = 'e'.repeat(64);
    const sections = K3S_PROBE_SECTIONS.filter((s) => s.name.includes('token'));
    expect(sections.map((s) => s.script.text.split('sha256sum').length - 1)).toEqual([1]);
    const facts = probeTokens(tokenFileContent(token), `K10${'1'.repeat(64)}::server:${token}\n`);
    expect(facts.tokenFileSha256).toBe(sha256Hex(tokenFileContent(token)));
    expect(facts.serverTokenSha256).toBe(sha256Hex(`${token}\n`));
  });

  it('hashes the token file exactly as revue-pi writes it', () => {
    const token = 'f'.repeat(64);
    expect(probeTokens(tokenFileContent(token), undefined).tokenFileSha256).toBe(sha256Hex(tokenFileContent(token)));
  });

  it('hashes only the secret of a full server token, with or without a trailing newline', () => {
    const secret = '0123abcd'.repeat(8);
    const full = `K10${'9'.repeat(64)}::server:${secret}`;
    expect(tokenSecret(full)).toBe(secret);
    expect(probeTokens(undefined, full).serverTokenSha256).toBe(sha256Hex(`${secret}\n`));
    expect(probeTokens(undefined, `${full}\n`).serverTokenSha256).toBe(sha256Hex(`${secret}\n`));
    expect(probeTokens(undefined, `${full}\r\n`).serverTokenSha256).toBe(sha256Hex(`${secret}\n`));
    expect(probeTokens(undefined, secret).serverTokenSha256).toBe(sha256Hex(`${secret}\n`));
    expect(probeTokens(undefined, full).serverTokenSha256).toBe(serverSecretSha256(full));
  });

  it('reports nothing for missing files', () => {
    const facts = probeTokens(undefined, undefined);
    expect(facts.tokenFileSha256).toBeUndefined();
    expect(facts.serverTokenSha256).toBeUndefined();
  });
});

describe('the k3s version cache', () => {
  const dir = tempDir('k3s-cache');

  /** Runs the binary/version sections against a fake binary in `dir` that leaves a mark when executed. */
  function probeVersion(cached?: K3sVersionCacheEntry) {
    const bin = join(dir, 'k3s');
    const mark = join(dir, 'executed');
    rmSync(mark, { force: true });
    if (!existsSync(bin)) {
      writeFileSync(bin, `#!/bin/sh\ntouch ${mark}\necho 'k3s version v1.33.5+k3s1 (abcdef12)'\n`);
      chmodSync(bin, 0o755);
    }
    const sections = k3sProbeSections(cached)
      .filter((s) => s.name === 'k3s_binary' || s.name === 'k3s_version')
      .map((s) => ({
        name: s.name,
        script: rawShell(s.script.text.split(K3S_BINARY_PATH).join(bin).replace('PATH="$PATH:/usr/local/bin"', `PATH="${dir}:$PATH"`)),
      }));
    const out = execFileSync('sh', ['-c', buildProbeScript(sections).text], { encoding: 'utf8' });
    return { facts: parseK3sFacts(parseProbeOutput(out), cached), executed: existsSync(mark) };
  }

  it('without a cache the binary is asked', () => {
    const { facts, executed } = probeVersion();
    expect(executed).toBe(true);
    expect(facts.installedVersion).toBe('v1.33.5+k3s1');
    expect(facts.binaryFingerprint).toMatch(/^\d+:\d+:\d+$/);
  });

  it('with a matching fingerprint the binary is not executed and the cached version is used', () => {
    const first = probeVersion().facts;
    const { facts, executed } = probeVersion({ fingerprint: first.binaryFingerprint!, version: 'v1.33.5+k3s1' });
    expect(executed).toBe(false);
    expect(facts.installedVersion).toBe('v1.33.5+k3s1');
  });

  it('a replaced binary (other fingerprint) is asked again', () => {
    const { facts, executed } = probeVersion({ fingerprint: '1:2:3', version: 'v1.30.0+k3s1' });
    expect(executed).toBe(true);
    expect(facts.installedVersion).toBe('v1.33.5+k3s1');
  });

  it('is kept in the state dir (0600), updated only when something changed, dropped for uninstalled nodes', () => {
    const state = join(dir, 'state');
    mkdirSync(state);
    const installed = { ...freshK3sFacts(), installedVersion: 'v1.33.5+k3s1', binaryFingerprint: '10:20:30' };
    expect(
      updateK3sVersionCache(state, [
        { name: 'pi-2', facts: installed },
        { name: 'pi-1', facts: installed },
      ]),
    ).toBe(true);
    expect(readFileSync(join(state, 'k3s-versions.json'), 'utf8')).toBe(
      '{\n  "pi-1": {\n    "fingerprint": "10:20:30",\n    "version": "v1.33.5+k3s1"\n  },\n  "pi-2": {\n    "fingerprint": "10:20:30",\n    "version": "v1.33.5+k3s1"\n  }\n}\n',
    );
    expect(statSync(join(state, 'k3s-versions.json')).mode & 0o777).toBe(0o600);
    expect(updateK3sVersionCache(state, [{ name: 'pi-1', facts: installed }])).toBe(false);
    expect(updateK3sVersionCache(state, [{ name: 'pi-2', facts: freshK3sFacts() }])).toBe(true);
    expect(readK3sVersionCache(state)).toEqual({ 'pi-1': { fingerprint: '10:20:30', version: 'v1.33.5+k3s1' } });
    writeFileSync(join(state, 'k3s-versions.json'), 'not json');
    expect(readK3sVersionCache(state)).toEqual({});
  });
});

describe('the probe without root (root-only files cached by fingerprint)', () => {
  const dir = tempDir('k3s-noroot');
  const local: Record<string, string> = {
    [K3S_BINARY_PATH]: join(dir, 'k3s'),
    [K3S_CONFIG_PATH]: join(dir, 'config.yaml'),
    [TOKEN_FILE_PATH]: join(dir, 'revue-pi-token'),
    [NODE_PASSWORD_PATH]: join(dir, 'password'),
    [SERVER_TOKEN_PATH]: join(dir, 'server-token'),
  };
  const sudoMark = join(dir, 'sudo-ran');
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  /** TEST DOUBLE for sudo: records that it ran, then runs the command (or refuses, as `sudo -n` does without a rule). */
  function fakeSudo(refuse: boolean) {
    writeFileSync(
      join(bin, 'sudo'),
      refuse
        ? `#!/bin/sh\ntouch ${sudoMark}\necho 'sudo: a password is required' >&2\nexit 1\n`
        : `#!/bin/sh\ntouch ${sudoMark}\n[ "$1" = -n ] && shift\nexec "$@"\n`,
    );
    chmodSync(join(bin, 'sudo'), 0o755);
  }
  /** Runs the k3s sections that touch the root-only files, their paths moved into `dir`. */
  function probe(cached?: K3sVersionCacheEntry, withoutRoot = false) {
    rmSync(sudoMark, { force: true });
    const names = ['k3s_binary', 'k3s_config', 'k3s_token_hashes', 'k3s_node_password', 'k3s_files'];
    const sections = k3sProbeSections(cached, { withoutRoot })
      .filter((x) => names.includes(x.name))
      .map((x) => ({ name: x.name, script: rawShell(Object.entries(local).reduce((t, [from, to]) => t.split(from).join(to), x.script.text)) }));
    let code = 0;
    let out = '';
    try {
      out = execFileSync('sh', ['-c', buildProbeScript(sections).text], { encoding: 'utf8', env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } });
    } catch (e) {
      code = (e as { status: number }).status;
    }
    out = Object.entries(local).reduce((t, [to, from]) => t.split(from).join(to), out);
    return { code, facts: parseK3sFacts(parseProbeOutput(out), cached), sudo: existsSync(sudoMark) };
  }

  it('reads nothing as root while the files are unchanged, and everything again when one is replaced', () => {
    fakeSudo(false);
    const token = 'c'.repeat(64);
    writeFileSync(local[K3S_CONFIG_PATH]!, 'node-name: pi-2\n', { mode: 0o600 });
    writeFileSync(local[TOKEN_FILE_PATH]!, tokenFileContent(token), { mode: 0o600 });
    writeFileSync(local[NODE_PASSWORD_PATH]!, 'pw\n', { mode: 0o600 });
    const full = probe().facts;
    expect(full.rootFilesFingerprint?.split('\n')).toHaveLength(3);
    const state = join(dir, 'state');
    mkdirSync(state, { recursive: true });
    updateK3sVersionCache(state, [{ name: 'pi-2', facts: { ...full, installedVersion: 'v1.33.5+k3s1', binaryFingerprint: '1:2:3' } }]);
    const cached = readK3sVersionCache(state)['pi-2']!;
    expect(cached.files).toEqual({
      fingerprint: full.rootFilesFingerprint,
      config: 'node-name: pi-2\n',
      tokenFileSha256: sha256Hex(tokenFileContent(token)),
      nodePassword: true,
    });

    const same = probe(cached, true);
    expect(same).toMatchObject({ code: 0, sudo: false });
    expect(same.facts).toMatchObject({ config: 'node-name: pi-2\n', tokenFileSha256: sha256Hex(tokenFileContent(token)), nodePassword: true });

    // Edited by hand (a new inode, as editors and revue-pi write): read again, under sudo.
    writeFileSync(join(dir, 'new'), 'node-name: pi-2\nnode-label:\n  - x=y\n', { mode: 0o600 });
    execFileSync('mv', [join(dir, 'new'), local[K3S_CONFIG_PATH]!]);
    const edited = probe(cached, true);
    expect(edited).toMatchObject({ code: 0, sudo: true });
    expect(edited.facts.config).toBe('node-name: pi-2\nnode-label:\n  - x=y\n');
    expect(edited.facts.tokenFileSha256).toBe(sha256Hex(tokenFileContent(token)));

    // Changed and sudo wants a password: the probe says so by its exit code (the caller probes again with sudo).
    fakeSudo(true);
    expect(probe(cached, true)).toMatchObject({ code: ROOT_PROBE_REFUSED_EXIT, sudo: true });
    // Without a cache entry for the files, the sections run as before (the caller runs them under sudo).
    expect(probe({ fingerprint: '1:2:3', version: 'v1.33.5+k3s1' }, true)).toMatchObject({ code: 0, sudo: false });
  });
});
