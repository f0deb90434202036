import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  buildInlineFilesScript,
  buildInstallFilesScript,
  buildReadFileScript,
  buildScriptCommand,
  buildScriptFileCommand,
  buildStdinScriptCommand,
  effectiveScript,
  INLINE_FILE_END,
  NO_SUCH_FILE_EXIT,
  NO_SUCH_FILE_MESSAGE,
  parseSudoStderr,
  stdinScript,
  tempNameBeside,
} from '../../../../core/remote/commands.js';
import { rawShell, shQuote, type ShellScript } from '../../../../core/remote/shell.js';
import { backoffDelay, describeDialError, isAuthFailure } from '../../../../core/remote/ssh.js';
import { fakeFatTools } from '../../../fakes/fat-tools.js';
import { tempDir } from '../../../fakes/temp-dir.js';

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

/** Runs a command line the way sshd does: handed to a POSIX shell (dash on Debian and Raspberry Pi OS). */
function sh(command: string | ShellScript, env?: NodeJS.ProcessEnv) {
  const r = spawnSync('/bin/sh', ['-c', String(command)], { encoding: 'utf8', input: '', ...(env ? { env } : {}) });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('shQuote', () => {
  it.each([
    ['plain/path-1.txt', 'plain/path-1.txt'],
    ['with space', `'with space'`],
    [`it's`, `'it'\\''s'`],
    ['$HOME', `'$HOME'`],
    ['', `''`],
  ])('%j → %s', (input, expected) => {
    expect(shQuote(input)).toBe(expected);
  });

  it.each([`it's "quoted" $x \`y\` \\ ;|&`, 'new\nline', '*'])('survives a real shell unchanged: %j', (value) => {
    expect(sh(`printf %s ${shQuote(value)}`).stdout).toBe(value);
  });
});

describe('buildScriptCommand', () => {
  const script = rawShell('set -e\necho "it\'s $((1+2))"\n');

  it('sends the script base64-encoded through sh -c', () => {
    expect(buildScriptCommand(script, { sudo: { kind: 'none' } }).text).toBe(`sh -c "$(echo ${b64(script.text)} | base64 -d)"`);
  });

  it('uses sudo -n when no sudo password is configured', () => {
    expect(buildScriptCommand(script, { sudo: { kind: 'nopassword' } }).text).toBe(`sudo -n sh -c "$(echo ${b64(script.text)} | base64 -d)"`);
  });

  it('uses sudo -S with the marker prompt, and gives the script /dev/null as stdin on its first line', () => {
    const cmd = buildScriptCommand(script, { sudo: { kind: 'password', prompt: '[revue-pi sudo 0123abcd]' } });
    expect(cmd.text).toBe(`sudo -S -p '[revue-pi sudo 0123abcd]' sh -c "$(echo ${b64('exec </dev/null; ' + script.text)} | base64 -d)"`);
    expect(effectiveScript(script, { kind: 'password', prompt: 'x' }).text.split('\n')).toHaveLength(script.text.split('\n').length);
  });

  it('adds a remote timeout after sudo, rounding up to whole seconds', () => {
    expect(buildScriptCommand(rawShell('true'), { sudo: { kind: 'nopassword' }, timeoutSeconds: 2.2 }).text).toBe(
      `sudo -n timeout -k 5 3 sh -c "$(echo ${b64('true')} | base64 -d)"`,
    );
  });

  it('runs in a real shell with quotes, $, backslashes, unicode and exit codes intact', () => {
    const tricky = `x='a "b" $c'\nprintf '%s|%s\\n' "$x" 'é ✓ \\\\'\necho err >&2\nexit 7\n`;
    const r = sh(buildScriptCommand(rawShell(tricky), { sudo: { kind: 'none' } }));
    expect(r).toEqual({ code: 7, stdout: 'a "b" $c|é ✓ \\\\\n', stderr: 'err\n' });
  });

  it('kills a script that overruns its remote timeout with exit 124', () => {
    const started = Date.now();
    const r = sh(buildScriptCommand(rawShell('sleep 5'), { sudo: { kind: 'none' }, timeoutSeconds: 1 }));
    expect(r.code).toBe(124);
    expect(Date.now() - started).toBeLessThan(4000);
  });
});

describe('buildStdinScriptCommand', () => {
  /** Runs the command as sshd would, with the script on stdin. */
  function shWithStdin(command: string | ShellScript, script: string) {
    const r = spawnSync('/bin/sh', ['-c', String(command)], { encoding: 'utf8', input: stdinScript(rawShell(script)).text });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  it('is sh -s behind sudo -n and the remote timeout, and refuses sudo -S (stdin carries the password there)', () => {
    expect(buildStdinScriptCommand({ sudo: { kind: 'none' } }).text).toBe('sh -s');
    expect(buildStdinScriptCommand({ sudo: { kind: 'nopassword' }, timeoutSeconds: 2.2 }).text).toBe('sudo -n timeout -k 5 3 sh -s');
    expect(() => buildStdinScriptCommand({ sudo: { kind: 'password', prompt: 'x' } })).toThrow(/stdin carries the password/);
  });

  it('runs a script from stdin with quotes, heredocs, backslashes, unicode and exit codes intact', () => {
    const tricky = `x='a "b" $c'\nprintf '%s|%s\\n' "$x" 'é ✓ \\\\'\ncat <<EOF\nhere $x\nEOF\necho err >&2\nexit 7`;
    expect(shWithStdin(buildStdinScriptCommand({ sudo: { kind: 'none' } }), tricky)).toEqual({
      code: 7,
      stdout: 'a "b" $c|é ✓ \\\\\nhere a "b" $c\n',
      stderr: 'err\n',
    });
  });

  it('gives the script /dev/null as stdin: a command that reads stdin cannot eat the rest of the script', () => {
    const r = shWithStdin('sh -s', 'head -c 100; echo "read $?"\necho still-running');
    expect(r).toMatchObject({ code: 0, stdout: 'read 0\nstill-running\n' });
  });

  it('kills a script that overruns its remote timeout with exit 124', () => {
    const started = Date.now();
    expect(shWithStdin(buildStdinScriptCommand({ sudo: { kind: 'none' }, timeoutSeconds: 1 }), 'sleep 5').code).toBe(124);
    expect(Date.now() - started).toBeLessThan(4000);
  });
});

describe('buildScriptFileCommand', () => {
  it('runs the uploaded file and removes it, keeping the exit code', async () => {
    expect(buildScriptFileCommand('/home/pi/.revue-pi-upload-1', { sudo: { kind: 'nopassword' } }).text).toBe(
      'sudo -n sh /home/pi/.revue-pi-upload-1; rc=$?; rm -f /home/pi/.revue-pi-upload-1; exit $rc',
    );
    const dir = tempDir('cmd');
    const file = join(dir, 'script');
    await writeFile(file, 'echo from-file; exit 5\n');
    expect(sh(buildScriptFileCommand(file, { sudo: { kind: 'none' } }))).toMatchObject({ code: 5, stdout: 'from-file\n' });
    expect(await readdir(dir)).toEqual([]);
    await rm(dir, { recursive: true });
  });
});

/** One upload, as writeFile moves it into place. */
const installOne = (uploaded: string, target: string, mode: number, token: string) => buildInstallFilesScript([{ uploaded, target, mode, token }]);

describe('buildInstallFilesScript', () => {
  let dir: string;
  beforeEach(async () => {
    dir = tempDir('install');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('names the temp file beside the target, hidden and not ending in .yaml', () => {
    expect(tempNameBeside('/var/lib/rancher/k3s/server/manifests/metallb.yaml', 'ab12')).toBe(
      '/var/lib/rancher/k3s/server/manifests/.metallb.yaml.revue-pi-ab12',
    );
  });

  it('is exactly this script', () => {
    const failed = (n: number) => `{ rc=$?; echo "revue-pi: could not write $dst${n}" >&2; exit $rc; }`;
    expect(installOne('/home/pi/.revue-pi-upload-1', "/etc/it's here.conf", 0o600, 'ab12').text).toBe(
      [
        'src1=/home/pi/.revue-pi-upload-1',
        `dst1='/etc/it'\\''s here.conf'`,
        `tmp1='/etc/.it'\\''s here.conf.revue-pi-ab12'`,
        `trap 'rm -f "$src1" "$tmp1"' EXIT`,
        `[ -d /etc ] || mkdir -p /etc || ${failed(1)}`,
        'if ! install -m 0600 "$src1" "$tmp1" 2>/dev/null; then',
        '  rm -f "$tmp1"',
        '  case "$(stat -f -c %T /etc)" in',
        '    msdos|vfat|fat|exfat) cp "$src1" "$tmp1" ;;',
        '    *) install -m 0600 "$src1" "$tmp1" ;;',
        `  esac || ${failed(1)}`,
        'fi',
        `mv -f "$tmp1" "$dst1" || ${failed(1)}`,
        'rm -f "$src1"',
        'trap - EXIT',
        '',
      ].join('\n'),
    );
  });

  it('several files, then a script, in one shell: the script runs only when every file is in place', async () => {
    const a = join(dir, 'a');
    const b = join(dir, 'b');
    await writeFile(a, 'token\n');
    await writeFile(b, 'config\n');
    const files = [
      { uploaded: a, target: join(dir, 'etc', 'token'), mode: 0o600, token: 't1' },
      { uploaded: b, target: join(dir, 'etc', 'config.yaml'), mode: 0o600, token: 't2' },
    ];
    const ok = sh(`${buildInstallFilesScript(files).text}echo then-ran; exit 3`);
    expect(ok).toMatchObject({ code: 3, stdout: 'then-ran\n' });
    expect(await readFile(join(dir, 'etc', 'config.yaml'), 'utf8')).toBe('config\n');
    expect((await stat(join(dir, 'etc', 'token'))).mode & 0o777).toBe(0o600);
    expect((await readdir(dir)).sort()).toEqual(['etc']);

    // The second target's folder is a file: the write fails, naming it; the script after it does not run.
    await writeFile(a, 'token2\n');
    await writeFile(b, 'config2\n');
    await writeFile(join(dir, 'blocker'), '');
    const bad = sh(`${buildInstallFilesScript([files[0]!, { ...files[1]!, target: join(dir, 'blocker', 'x.yaml') }]).text}echo then-ran`);
    expect(bad.code).not.toBe(0);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toContain(`revue-pi: could not write ${join(dir, 'blocker', 'x.yaml')}`);
    expect(existsSync(a) || existsSync(b)).toBe(false);
  });

  it('moves the upload into place with the mode, creating the folder and leaving nothing behind', async () => {
    const src = join(dir, 'upload');
    await writeFile(src, 'secret: yes\n', { mode: 0o600 });
    const dst = join(dir, 'new dir', "it's.yaml");
    expect(sh(installOne(src, dst, 0o640, 'tok')).code).toBe(0);
    expect(await readFile(dst, 'utf8')).toBe('secret: yes\n');
    expect((await stat(dst)).mode & 0o777).toBe(0o640);
    expect(await readdir(dir)).toEqual(['new dir']);
    expect(await readdir(join(dir, 'new dir'))).toEqual(["it's.yaml"]);
  });

  it('replaces an existing file through a rename (a new inode), never writing into it', async () => {
    const src = join(dir, 'upload');
    const dst = join(dir, 'target');
    await writeFile(dst, 'old\n');
    const before = (await stat(dst)).ino;
    await writeFile(src, 'new\n');
    expect(sh(installOne(src, dst, 0o644, 'tok')).code).toBe(0);
    expect(await readFile(dst, 'utf8')).toBe('new\n');
    expect((await stat(dst)).ino).not.toBe(before);
  });

  it('copies without a mode onto FAT (the Pi boot partition), where modes cannot be set', async () => {
    const fat = join(dir, 'firmware');
    await mkdir(fat);
    const shims = await fakeFatTools(join(dir, 'shims'), fat);
    const env = { ...process.env, PATH: `${shims}:${process.env.PATH}` };
    const src = join(dir, 'upload');
    await writeFile(src, 'console=serial0,115200 cgroup_memory=1 cgroup_enable=memory\n');
    await writeFile(join(fat, 'cmdline.txt'), 'old\n');
    // The double really refuses a mode there, so the plain install path would fail:
    expect(sh(`install -m 0644 ${src} ${join(fat, 'probe')}`, env).stderr).toContain('Operation not permitted');
    const r = sh(installOne(src, join(fat, 'cmdline.txt'), 0o644, 'tok'), env);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(await readFile(join(fat, 'cmdline.txt'), 'utf8')).toBe('console=serial0,115200 cgroup_memory=1 cgroup_enable=memory\n');
    expect((await readdir(fat)).sort()).toEqual(['cmdline.txt', 'probe']);
    expect(existsSync(src)).toBe(false);
  });

  it('still fails on a non-FAT folder when install cannot set the mode', async () => {
    const other = join(dir, 'not-fat');
    await mkdir(other);
    // The double refuses modes inside `other` but stat reports its real type: no silent fallback.
    const shims = await fakeFatTools(join(dir, 'shims'), other);
    const env = { ...process.env, PATH: `${shims}:${process.env.PATH}` };
    const statShim = await readFile(join(shims, 'stat'), 'utf8');
    await writeFile(join(shims, 'stat'), statShim.replace('echo msdos', 'echo ext2/ext3'));
    const src = join(dir, 'upload');
    await writeFile(src, 'x');
    const r = sh(installOne(src, join(other, 'f'), 0o600, 'tok'), env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Operation not permitted');
    expect(await readdir(other)).toEqual([]);
  });

  it('fails with the reason and still removes the upload when the target cannot be written', async () => {
    const src = join(dir, 'upload');
    await writeFile(src, 'x');
    await writeFile(join(dir, 'file'), 'not a folder');
    const r = sh(installOne(src, join(dir, 'file', 'target'), 0o644, 'tok'));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/file/);
    expect((await readdir(dir)).sort()).toEqual(['file']);
  });
});

/** Runs a script the way the transport sends it without a sudo password: `sh -s` with the script on stdin. */
function shStdin(script: string) {
  const r = spawnSync('/bin/sh', ['-s'], { encoding: 'utf8', input: stdinScript(rawShell(script)).text });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('buildInlineFilesScript', () => {
  let dir: string;
  beforeEach(async () => {
    dir = tempDir('inline');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is exactly this script', () => {
    const failed = (n: number) => `{ rc=$?; echo "revue-pi: could not write $dst${n}" >&2; exit $rc; }`;
    const script = buildInlineFilesScript([
      { content: Buffer.from('token: abc\n'), target: "/etc/it's here.conf", mode: 0o600, token: 'ab12' },
      { content: Buffer.from('#!/bin/sh\n'), target: '/usr/local/bin/tool', mode: 0o755, token: 'cd34' },
    ]);
    expect(script.text).toBe(
      [
        `dst1='/etc/it'\\''s here.conf'`,
        `tmp1='/etc/.it'\\''s here.conf.revue-pi-ab12'`,
        'dst2=/usr/local/bin/tool',
        'tmp2=/usr/local/bin/.tool.revue-pi-cd34',
        `trap 'rm -f "$tmp1" "$tmp2"' EXIT`,
        `[ -d /etc ] || mkdir -p /etc || ${failed(1)}`,
        `(umask 0177 && base64 -d > "$tmp1") <<'${INLINE_FILE_END}' || ${failed(1)}`,
        Buffer.from('token: abc\n').toString('base64'),
        INLINE_FILE_END,
        `mv -f "$tmp1" "$dst1" || ${failed(1)}`,
        `[ -d /usr/local/bin ] || mkdir -p /usr/local/bin || ${failed(2)}`,
        `(umask 0022 && base64 -d > "$tmp2") <<'${INLINE_FILE_END}' || ${failed(2)}`,
        Buffer.from('#!/bin/sh\n').toString('base64'),
        INLINE_FILE_END,
        `chmod 0755 "$tmp2" || ${failed(2)}`,
        `mv -f "$tmp2" "$dst2" || ${failed(2)}`,
        'trap - EXIT',
        '',
      ].join('\n'),
    );
  });

  it('writes every byte with its mode through a rename, then runs the script after it, from stdin', async () => {
    const every = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 31) % 256));
    const target = join(dir, 'etc', 'config.yaml');
    await mkdir(join(dir, 'etc'));
    await writeFile(target, 'old\n');
    const inodeBefore = (await stat(target)).ino;
    const files = [
      { content: Buffer.from('node-name: pi\n'), target, mode: 0o640, token: 't1' },
      { content: every, target: join(dir, 'new dir', "it's.bin"), mode: 0o600, token: 't2' },
      { content: Buffer.from('#!/bin/sh\necho hi\n'), target: join(dir, 'bin', 'tool'), mode: 0o755, token: 't3' },
      { content: Buffer.alloc(0), target: join(dir, 'empty'), mode: 0o644, token: 't4' },
    ];
    const r = shStdin(`${buildInlineFilesScript(files).text}${join(dir, 'bin', 'tool')}; cat; exit 3`);
    expect(r).toEqual({ code: 3, stdout: 'hi\n', stderr: '' });
    expect(await readFile(target, 'utf8')).toBe('node-name: pi\n');
    expect((await stat(target)).ino).not.toBe(inodeBefore);
    expect(await readFile(join(dir, 'new dir', "it's.bin"))).toEqual(every);
    expect(await readFile(join(dir, 'empty'))).toEqual(Buffer.alloc(0));
    const modes = await Promise.all(
      [target, join(dir, 'new dir', "it's.bin"), join(dir, 'bin', 'tool'), join(dir, 'empty')].map(async (f) => (await stat(f)).mode & 0o777),
    );
    expect(modes).toEqual([0o640, 0o600, 0o755, 0o644]);
    expect((await readdir(dir)).sort()).toEqual(['bin', 'empty', 'etc', 'new dir']);
    expect(await readdir(join(dir, 'etc'))).toEqual(['config.yaml']);
  });

  it('stops at the first file it cannot write, naming it, runs nothing after and leaves no temp file', async () => {
    await writeFile(join(dir, 'blocker'), 'a file, not a folder');
    const files = [
      { content: Buffer.from('a\n'), target: join(dir, 'a'), mode: 0o600, token: 't1' },
      { content: Buffer.from('b\n'), target: join(dir, 'blocker', 'b'), mode: 0o600, token: 't2' },
    ];
    const r = shStdin(`${buildInlineFilesScript(files).text}echo then-ran`);
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`revue-pi: could not write ${join(dir, 'blocker', 'b')}`);
    expect((await readdir(dir)).sort()).toEqual(['a', 'blocker']);
  });
});

describe('buildReadFileScript', () => {
  it('prints base64 of an existing file and a marked exit for a missing one', async () => {
    const dir = tempDir('read');
    const file = join(dir, "a b's");
    const bytes = Buffer.from([0, 1, 2, 255, 10, 13]);
    await writeFile(file, bytes);
    const ok = sh(buildScriptCommand(buildReadFileScript(file), { sudo: { kind: 'none' } }));
    expect(ok.code).toBe(0);
    expect(Buffer.from(ok.stdout, 'base64')).toEqual(bytes);
    const missing = sh(buildScriptCommand(buildReadFileScript(join(dir, 'nope')), { sudo: { kind: 'none' } }));
    expect(missing.code).toBe(NO_SUCH_FILE_EXIT);
    expect(missing.stderr).toContain(NO_SUCH_FILE_MESSAGE);
    await rm(dir, { recursive: true });
  });
});

describe('parseSudoStderr', () => {
  const P = '[revue-pi sudo 1]';
  it('counts and strips the prompt marker', () => {
    expect(parseSudoStderr(`${P}warning: x\n`, P)).toEqual({
      prompts: 1,
      stderr: 'warning: x\n',
      passwordRequired: false,
      incorrectPassword: false,
      notAllowed: false,
    });
  });
  it("drops what sudo says before its prompt (the first-use lecture), keeping the command's stderr", () => {
    const lecture = '\nWe trust you have received the usual lecture from the local System\nAdministrator. It usually boils down to these three things:\n\n';
    expect(parseSudoStderr(`${lecture}${P}real error\n`, P)).toMatchObject({ prompts: 1, stderr: 'real error\n' });
  });

  it('sees a refused password (sudo re-prompts)', () => {
    // What sudo 1.9.13 (Debian 12) prints for `sudo -S -p <P>` given one wrong line and then EOF.
    const r = parseSudoStderr(`${P}Sorry, try again.\n${P}\nsudo: no password was provided\nsudo: 1 incorrect password attempt\n`, P);
    expect(r.prompts).toBe(2);
    expect(r.incorrectPassword).toBe(true);
  });
  it('sees sudo -n asking for a password', () => {
    expect(parseSudoStderr('sudo: a password is required\n', undefined).passwordRequired).toBe(true);
    expect(parseSudoStderr('my script says: a password is required\n', undefined).passwordRequired).toBe(false);
  });
  it('sees a user without sudo rights', () => {
    expect(parseSudoStderr('bob is not in the sudoers file.\n', undefined).notAllowed).toBe(true);
    expect(parseSudoStderr('sudo: bob is not in the sudoers file.  This incident has been reported to the administrator.\n', undefined).notAllowed).toBe(true);
  });
});

describe('connect helpers', () => {
  it('backs off exponentially up to the cap', () => {
    expect([1, 2, 3, 4, 5].map((a) => backoffDelay(a, 250, 1000))).toEqual([250, 500, 1000, 1000, 1000]);
  });

  it('tells login refusals (never retried) from dial errors', () => {
    expect(isAuthFailure(Object.assign(new Error('All configured authentication methods failed'), { level: 'client-authentication' }))).toBe(true);
    expect(isAuthFailure(Object.assign(new Error('Too many authentication failures'), { level: 'protocol' }))).toBe(true);
    expect(isAuthFailure(Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:22'), { level: 'client-socket', code: 'ECONNREFUSED' }))).toBe(false);
    expect(isAuthFailure(undefined)).toBe(false);
  });

  it('keeps the dial error and names a handshake timeout ETIMEDOUT', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 192.168.1.102:22'), { code: 'ECONNREFUSED' });
    expect(describeDialError(refused, 10_000)).toBe('connect ECONNREFUSED 192.168.1.102:22');
    const dns = Object.assign(new Error('getaddrinfo failed for pi-2.local'), { code: 'ENOTFOUND' });
    expect(describeDialError(dns, 10_000)).toBe('getaddrinfo failed for pi-2.local (ENOTFOUND)');
    const timeout = Object.assign(new Error('Timed out while waiting for handshake'), { level: 'client-timeout' });
    expect(describeDialError(timeout, 2500)).toBe('timed out after 2.5 s waiting for the SSH handshake (ETIMEDOUT)');
  });
});
