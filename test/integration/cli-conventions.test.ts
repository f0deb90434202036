/**
 * The built CLI and the conventions of the platform and the terminal (no lab: nothing is contacted).
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CLI, runCli } from './cli.js';
import { tempDir } from '../fakes/temp-dir.js';

const EXAMPLE = fileURLToPath(new URL('../../inventory.example.yaml', import.meta.url));
/** An environment with no XDG or revue-pi folders set: every default lands under HOME. */
const bareEnv = (home: string) => ({ HOME: home, XDG_STATE_HOME: '', XDG_CONFIG_HOME: '', REVUE_PI_STATE_DIR: '', REVUE_PI_SSH_CONFIG: '', KUBECONFIG: '' });

describe('files where the platform expects them', () => {
  it('plan --offline writes nothing under the home folder (no state folder, no log)', async () => {
    const home = tempDir('home');
    const result = await runCli(['plan', '--offline', '-i', EXAMPLE], { env: bareEnv(home) });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('Plan for cluster revue');
    expect(readdirSync(home)).toEqual([]);
  });
});

/** Runs the built CLI in a real pseudo-terminal (script(1), sized 100×40 as a window would be), stdin kept open. */
function runInTerminal(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  const command = `stty cols 100 rows 40; exec ${[process.execPath, CLI, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ')}`;
  const childEnv: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm-256color', ...env };
  for (const name of ['CI', 'NO_COLOR', 'FORCE_COLOR']) if (env[name] === undefined) delete childEnv[name];
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], { env: childEnv, stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      child.stdin.end();
      resolve({ code, output });
    });
  });
}

/** Runs the built CLI with its stdout already closed by the reader, as `| head` leaves it. */
function runWithClosedStdout(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, CI: 'true' }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

const COLOUR = /\u001b\[3\dm/;

describe('terminal conventions', () => {
  it("on a terminal the spinner's symbols are coloured; NO_COLOR and FORCE_COLOR=0 turn every colour off, FORCE_COLOR wins over NO_COLOR", async () => {
    const args = ['plan', '--offline', '-i', EXAMPLE];
    const plain = await runInTerminal(args, {});
    expect(plain.code, plain.output).toBe(0);
    expect(plain.output).toContain('Planning for fresh nodes (offline)');
    expect(plain.output).toMatch(COLOUR);
    for (const env of [{ NO_COLOR: '1' }, { FORCE_COLOR: '0' }]) {
      const run = await runInTerminal(args, env);
      expect(run.code, run.output).toBe(0);
      expect(run.output).toContain('✔ Planning for fresh nodes (offline)');
      expect(run.output).not.toMatch(COLOUR);
    }
    expect((await runInTerminal(args, { NO_COLOR: '1', FORCE_COLOR: '1' })).output).toMatch(COLOUR);
  });

  it.each([[['--help']], [['plan', '--help']], [['plan', '--offline', '-i', EXAMPLE]], [['plan', '--offline', '-i', EXAMPLE, '--json']]])(
    'a closed pipe is no error: %j ends with exit 0 and no stack trace',
    async (args) => {
      const result = await runWithClosedStdout(args);
      expect(result.stderr).not.toMatch(/EPIPE|\n\s+at /);
      expect(result.code).toBe(0);
    },
  );

  it('`revue-pi --help | head -1` prints the usage line and nothing on stderr', async () => {
    const result = spawnSync('sh', ['-c', `'${process.execPath}' '${CLI}' --help | head -1`], { encoding: 'utf8' });
    expect(result.stdout).toBe('Usage: revue-pi [options] [command]\n');
    expect(result.stderr).toBe('');
  });

  it('--json: stdout holds the one JSON document, even with inventory and ssh config warnings and --verbose', async () => {
    const dir = tempDir('json');
    // Two servers: the inventory warns that an even number adds no safety.
    const inventory = join(dir, 'inventory.yaml');
    writeFileSync(inventory, readFileSync(EXAMPLE, 'utf8').replace('host: 192.168.1.102\n    role: agent', 'host: 192.168.1.102\n    role: server'));
    const sshConfig = join(dir, 'ssh_config');
    writeFileSync(sshConfig, 'Host 192.168.1.101\n  ProxyCommand nc %h %p\n');
    const env = { ...bareEnv(tempDir('home')), REVUE_PI_SSH_CONFIG: sshConfig };
    const text = await runCli(['plan', '--offline', '--verbose', '-i', inventory], { env });
    expect(text.stderr).toContain('2 nodes have role: server');
    expect(text.stderr).toContain(`${sshConfig}:2: ProxyCommand nc %h %p applies to node pi-1`);
    const json = await runCli(['plan', '--offline', '--verbose', '--json', '-i', inventory], { env });
    expect(json.code, json.stderr).toBe(0);
    const report = JSON.parse(json.stdout) as { inventoryWarnings?: { line: number; message: string }[]; sshConfigWarnings?: string[] };
    expect(report).toMatchObject({ command: 'plan', offline: true, ok: true });
    // The warnings shown on stderr are in the report too.
    expect(report.inventoryWarnings).toEqual([
      expect.objectContaining({ line: expect.any(Number), message: expect.stringContaining('2 nodes have role: server') }),
    ]);
    expect(report.sshConfigWarnings).toEqual([expect.stringContaining(`${sshConfig}:2: ProxyCommand nc %h %p applies to node pi-1`)]);
    // An ssh config that cannot be used: the error is the JSON document.
    writeFileSync(sshConfig, 'Host 192.168.1.101\n  Port none\n');
    const bad = await runCli(['plan', '--offline', '--json', '-i', inventory], { env });
    expect(bad.code).toBe(2);
    expect(JSON.parse(bad.stdout)).toMatchObject({
      ok: false,
      exitCode: 2,
      error: { message: expect.stringContaining(`${sshConfig}:2: Port none is not a port number`) },
    });
  });
});

describe('the run log', () => {
  it("holds the inventory's warnings (a plan whose nodes cannot be reached still writes its log)", async () => {
    const dir = tempDir('log');
    const inventory = join(dir, 'inventory.yaml');
    // Nothing listens on 127.0.0.1:1: every node is refused at once.
    writeFileSync(
      inventory,
      readFileSync(EXAMPLE, 'utf8')
        .replace('host: 192.168.1.102\n    role: agent', 'host: 192.168.1.102\n    role: server')
        .replace(/host: 192\.168\.1\.10(\d)/g, 'host: 127.0.0.$1')
        .replace('  connectRetries: 2', '  connectRetries: 0\n  port: 1')
        .replace(/192\.168\.1\./g, '127.0.0.'),
    );
    const result = await runCli(['plan', '-i', inventory, '--state-dir', join(dir, 'state')], { env: { ...bareEnv(dir), SSH_AUTH_SOCK: '' } });
    expect(result.code).toBe(1);
    const [log] = readdirSync(join(dir, 'state', 'logs'));
    expect(readFileSync(join(dir, 'state', 'logs', log!), 'utf8')).toMatch(/ warning: .*inventory\.yaml:\d+:\d+ nodes: 2 nodes have role: server/);
  });
});

describe('the package', () => {
  it('`npm pack --json` prints only its JSON (the build in prepare is quiet), and the tarball holds the LICENSE', () => {
    const root = fileURLToPath(new URL('../..', import.meta.url));
    // prepare rebuilds dist/ (tsup cleans it first), which the lab files running beside this one execute: pack a copy
    // of the package (its own dist/, the same node_modules) instead.
    const copy = join(tempDir('package'), 'revue-pi');
    const skip = new Set(['node_modules', 'dist', '.git'].map((e) => join(root, e)));
    cpSync(root, copy, { recursive: true, filter: (source) => !skip.has(source.replace(/\/$/, '')) });
    symlinkSync(join(root, 'node_modules'), join(copy, 'node_modules'));
    const result = spawnSync('npm', ['pack', '--json', '--dry-run'], { cwd: copy, encoding: 'utf8', env: { ...process.env, npm_config_loglevel: 'warn' } });
    expect(result.status, result.stderr).toBe(0);
    const [pack] = JSON.parse(result.stdout) as [{ files: { path: string }[] }];
    const files = pack.files.map((f) => f.path);
    expect(files).toContain('LICENSE');
    expect(files).toContain('dist/revue-pi.js');
    expect(readFileSync(join(root, 'LICENSE'), 'utf8')).toMatch(/^MIT License\n\nCopyright \(c\) \d{4} revue-pi contributors\n/);
  });
});
