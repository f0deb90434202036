/**
 * The SSH transport against real OpenSSH servers: the lab's simulated Pis on 127.0.20.x.
 * Covers key (ed25519, RSA, encrypted), password and agent logins; sudo without and with a password;
 * host keys (TOFU, changed, the user's hashed known_hosts); unreachable nodes; a jump host; writeFile/readFile;
 * timeouts; reconnect after a reboot.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { appendFile, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ConnectionError, HostKeyMismatchError, RevuePiError } from '../../core/errors.js';
import type { NodeSshSettings } from '../../core/inventory/schema.js';
import { describeTrustedKey } from '../../core/remote/host-key-text.js';
import { fingerprintSha256, hashHostName, KnownHosts, parseKnownHosts } from '../../core/remote/known-hosts.js';
import { connectNode, type ConnectNodeOptions, type SshTransport } from '../../core/remote/ssh.js';
import { rawShell } from '../../core/remote/shell.js';
import { startLab, type Lab, type LabNode } from '../lab/lab.js';
import { describeLab } from '../lab/skip.js';
import { tempDir } from '../fakes/temp-dir.js';

const SUDO_PASSWORD = 'Sudo pass with spaces & $tuff';

describeLab('SSH transport against the lab', () => {
  let lab: Lab;
  let dir: string;
  /** An empty HOME, so no default ~/.ssh identity or known_hosts of the machine running the tests leaks in. */
  let home: string;
  let plain: LabNode; // NOPASSWD sudo, key login only
  let guarded: LabNode; // sudo asks for a password; password login allowed
  let rebooter: LabNode; // rebooted and powered off
  let rekeyed: LabNode; // host keys regenerated
  const open: SshTransport[] = [];
  let khCounter = 0;

  beforeAll(async () => {
    lab = await startLab(
      [{ name: 'pi-a' }, { name: 'pi-b', sudoPassword: SUDO_PASSWORD, sshPassword: SUDO_PASSWORD }, { name: 'pi-c', bootDelayMs: 1500 }, { name: 'pi-d' }],
      { subnet: '127.0.20.' },
    );
    [plain, guarded, rebooter, rekeyed] = ['pi-a', 'pi-b', 'pi-c', 'pi-d'].map((n) => lab.node(n)) as [LabNode, LabNode, LabNode, LabNode];
    dir = tempDir('ssh-it');
    home = join(dir, 'home');
    await writeFile(join(dir, 'placeholder'), '');
  });

  afterAll(async () => {
    await Promise.all(open.map((t) => t.close()));
    await lab?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  function settings(node: { address: string; port: number }, extra: Partial<NodeSshSettings> = {}): NodeSshSettings {
    return {
      host: node.address,
      port: node.port,
      user: lab.user,
      keyPath: lab.keyPath,
      useAgent: false,
      connectTimeoutSeconds: 5,
      connectRetries: 0,
      ...extra,
    };
  }

  /** A fresh known_hosts file per test unless one is given (and no user file). */
  function knownHosts(file?: string, userFiles: string[] = []): KnownHosts {
    return new KnownHosts({ file: file ?? join(dir, `known_hosts_${++khCounter}`), userFiles, home });
  }

  async function connect(s: NodeSshSettings, opts: Partial<ConnectNodeOptions> & { nodeName?: string } = {}): Promise<SshTransport> {
    const t = await connectNode(s, {
      nodeName: opts.nodeName ?? 'pi-x',
      knownHosts: opts.knownHosts ?? knownHosts(),
      env: opts.env ?? { HOME: home },
      retryDelayMs: 100,
      ...opts,
    });
    open.push(t);
    return t;
  }

  async function rejection(p: Promise<unknown>): Promise<RevuePiError> {
    const err = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RevuePiError);
    return err as RevuePiError;
  }

  it('logs in with the lab key, runs scripts over one connection, and keeps exit codes and output apart', async () => {
    const t = await connect(settings(plain));
    const r = await t.run(rawShell('echo "it\'s $(hostname)"; echo warn >&2; exit 3'));
    expect(r).toEqual({ code: 3, stdout: "it's pi-a\n", stderr: 'warn\n' });
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => t.run(rawShell(`echo ${i}`))));
    expect(results.map((x) => x.stdout)).toEqual(Array.from({ length: 8 }, (_, i) => `${i}\n`));
    expect(t.connectionCount).toBe(1);
  });

  it('queues commands beyond the channel limit instead of failing (OpenSSH MaxSessions defaults to 10)', async () => {
    // Give this node OpenSSH's default MaxSessions (the lab raises it); drop-ins come first, and the first value wins.
    await plain.exec('echo "MaxSessions 10" >/etc/ssh/sshd_config.d/10-max-sessions.conf && kill -HUP "$(cat /run/sshd.pid)"');
    await new Promise((r) => setTimeout(r, 300));
    await plain.waitUntilUp();
    const t = await connect(settings(plain));
    await t.writeFile('/home/pi/probe.txt', 'x');
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => t.run(rawShell(`sleep 0.2; echo ${i}`), { sudo: i % 2 === 0 })));
    expect(results.map((r) => r.stdout)).toEqual(Array.from({ length: 30 }, (_, i) => `${i}\n`));
    expect(t.connectionCount).toBe(1);
  });

  it('records a first-seen host key once, even when connections to many nodes race', async () => {
    const file = join(dir, 'tofu_known_hosts');
    const kh = knownHosts(file);
    const nodes = [plain, guarded, rebooter, rekeyed];
    await Promise.all([...nodes, ...nodes].map((n) => connect(settings(n), { knownHosts: kh })));
    const text = await readFile(file, 'utf8');
    const entries = parseKnownHosts(text);
    expect(entries.map((e) => e.hosts).sort()).toEqual(nodes.map((n) => n.address).sort());
    for (const n of nodes) {
      expect(entries.find((e) => e.hosts === n.address)).toMatchObject({ keyType: 'ssh-ed25519', key: n.hostKey().split(' ')[1] });
    }
    expect(text.endsWith('\n')).toBe(true);
    // A second round finds the keys and writes nothing.
    await Promise.all(nodes.map((n) => connect(settings(n), { knownHosts: kh })));
    expect(await readFile(file, 'utf8')).toBe(text);
    // A file that cannot be written is a clear, final error (no silent trust).
    const unwritable = join(dir, 'placeholder', 'known_hosts');
    const err = await rejection(connect(settings(plain, { connectRetries: 2 }), { nodeName: 'pi-a', knownHosts: knownHosts(unwritable) }));
    expect(err.message).toMatch(new RegExp(`^Could not record the host key of node pi-a in ${unwritable}: (EEXIST|ENOTDIR)`));
  });

  it('logs in with an RSA key (rsa-sha2 signatures; OpenSSH refuses ssh-rsa SHA-1) and with an encrypted key', async () => {
    const rsa = join(dir, 'id_rsa');
    const enc = join(dir, 'id_enc');
    expect(spawnSync('ssh-keygen', ['-q', '-t', 'rsa', '-b', '2048', '-N', '', '-f', rsa]).status).toBe(0);
    expect(spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'key pass', '-f', enc]).status).toBe(0);
    await appendFile(plain.path('/home/pi/.ssh/authorized_keys'), (await readFile(`${rsa}.pub`, 'utf8')) + (await readFile(`${enc}.pub`, 'utf8')));
    // The node's sshd accepts RSA keys only with SHA-2 signatures (OpenSSH ≥ 8.8 default), so this login proves rsa-sha2.
    const accepted = (await plain.exec('/usr/sbin/sshd -T -f /etc/ssh/sshd_config | grep -i "^pubkeyacceptedalgorithms"')).stdout.trim().split(/[ ,]/);
    expect(accepted).toContain('rsa-sha2-256');
    expect(accepted).not.toContain('ssh-rsa');
    const t = await connect(settings(plain, { keyPath: rsa }));
    expect((await t.run(rawShell('whoami'))).stdout).toBe('pi\n');
    const e = await connect(settings(plain, { keyPath: enc, keyPassphraseEnv: 'KEY_PASS' }), { env: { HOME: home, KEY_PASS: 'key pass' } });
    expect((await e.run(rawShell('whoami'))).stdout).toBe('pi\n');

    const noPass = await rejection(connect(settings(plain, { keyPath: enc }), { nodeName: 'pi-a' }));
    expect(noPass.message).toMatch(/encrypted.*ssh\.keyPassphraseEnv/);
    const wrong = await rejection(
      connect(settings(plain, { keyPath: enc, keyPassphraseEnv: 'KEY_PASS' }), { nodeName: 'pi-a', env: { HOME: home, KEY_PASS: 'nope' } }),
    );
    expect(wrong.message).toContain('the passphrase in KEY_PASS (ssh.keyPassphraseEnv) does not decrypt it');
    const unset = await rejection(connect(settings(plain, { keyPath: enc, keyPassphraseEnv: 'KEY_PASS' }), { nodeName: 'pi-a' }));
    expect(unset.message).toBe('The environment variable KEY_PASS is not set, but the inventory names it in ssh.keyPassphraseEnv for node pi-a.');
  });

  it('logs in with a password from the named environment variable, and fails clearly when it is wrong or unset', async () => {
    const s = settings(guarded, { keyPath: undefined, passwordEnv: 'PI_PASSWORD' });
    const t = await connect(s, { env: { HOME: home, PI_PASSWORD: SUDO_PASSWORD } });
    expect((await t.run(rawShell('whoami'))).stdout).toBe('pi\n');

    const started = Date.now();
    const wrong = await rejection(connect({ ...s, connectRetries: 3 }, { nodeName: 'pi-b', env: { HOME: home, PI_PASSWORD: 'wrong' } }));
    expect(wrong).toBeInstanceOf(ConnectionError);
    expect(wrong.message).toBe(`Could not log in to node pi-b at ${guarded.address}:22 as pi: the server refused every method tried (password).`);
    expect(wrong.message).not.toContain('wrong');
    expect(Date.now() - started).toBeLessThan(4000); // auth failures are not retried

    const unset = await rejection(connect(s, { nodeName: 'pi-b' }));
    expect(unset.message).toBe('The environment variable PI_PASSWORD is not set, but the inventory names it in ssh.passwordEnv for node pi-b.');
    expect(unset.code).toBe('SECRET_MISSING');
  });

  it('logs in through an ssh-agent at SSH_AUTH_SOCK', async () => {
    const sock = join(dir, 'agent.sock');
    const agent: ChildProcess = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
    try {
      for (let i = 0; i < 100 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 50));
      const add = spawnSync('ssh-add', [lab.keyPath], { env: { ...process.env, SSH_AUTH_SOCK: sock }, encoding: 'utf8' });
      expect(add.status, add.stderr).toBe(0);
      const t = await connect(settings(plain, { keyPath: undefined, useAgent: true }), { env: { HOME: home, SSH_AUTH_SOCK: sock } });
      expect((await t.run(rawShell('whoami'))).stdout).toBe('pi\n');
      // An agent full of other keys cannot use up sshd's MaxAuthTries (6) before the configured key file is tried.
      expect(spawnSync('ssh-add', ['-D'], { env: { ...process.env, SSH_AUTH_SOCK: sock } }).status).toBe(0);
      for (let i = 0; i < 7; i++) {
        const other = join(dir, `other_${i}`);
        expect(spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other]).status).toBe(0);
        expect(spawnSync('ssh-add', [other], { env: { ...process.env, SSH_AUTH_SOCK: sock } }).status).toBe(0);
      }
      const crowded = await connect(settings(plain, { useAgent: true }), { env: { HOME: home, SSH_AUTH_SOCK: sock } });
      expect((await crowded.run(rawShell('whoami'))).stdout).toBe('pi\n');
      // Without the agent there is nothing left to log in with.
      const none = await rejection(connect(settings(plain, { keyPath: undefined, useAgent: true }), { nodeName: 'pi-a' }));
      expect(none.message).toMatch(/^There is no way to log in to node pi-a: .*SSH_AUTH_SOCK is not set/);
    } finally {
      agent.kill();
    }
  });

  it('runs sudo without a password (sudo -n) and with one written only to sudo, never to the script', async () => {
    const nopw = await connect(settings(plain));
    expect(await nopw.run(rawShell('id -u; cat; echo end'), { sudo: true })).toEqual({ code: 0, stdout: '0\nend\n', stderr: '' });

    // Password configured, but sudo does not ask (NOPASSWD): the script still sees an empty stdin.
    const unasked = await connect(settings(plain, { sudoPasswordEnv: 'SUDO_PW' }), { env: { HOME: home, SUDO_PW: SUDO_PASSWORD } });
    expect(await unasked.run(rawShell('id -u; cat; echo end'), { sudo: true })).toEqual({ code: 0, stdout: '0\nend\n', stderr: '' });

    const pw = await connect(settings(guarded, { sudoPasswordEnv: 'SUDO_PW' }), { env: { HOME: home, SUDO_PW: SUDO_PASSWORD } });
    // Nothing on the node's process table carries the password: sudo's command line holds only the script.
    const ps = await pw.run(rawShell('ps -eo args'), { sudo: true });
    expect(ps.code).toBe(0);
    expect(ps.stdout).toMatch(/^sudo -S -p \[revue-pi sudo [0-9a-f]+\] sh -c exec <\/dev\/null; ps -eo args$/m);
    expect(ps.stdout).not.toContain(SUDO_PASSWORD);
    expect(ps.stdout).not.toContain(Buffer.from(SUDO_PASSWORD).toString('base64'));
    const r = await pw.run(rawShell('id -u; cat; echo oops >&2; exit 4'), { sudo: true });
    expect(r).toEqual({ code: 4, stdout: '0\n', stderr: 'oops\n' });
    // Several sudo commands at once, each answering its own prompt.
    const many = await Promise.all(Array.from({ length: 5 }, () => pw.run(rawShell('id -u'), { sudo: true })));
    expect(many.map((x) => x.stdout)).toEqual(Array(5).fill('0\n'));
    expect(pw.connectionCount).toBe(1);
    // sudo's lecture (printed before the prompt) is not the command's stderr.
    await guarded.exec('echo "Defaults lecture=always" >/etc/sudoers.d/zz-lecture && chmod 440 /etc/sudoers.d/zz-lecture');
    try {
      expect(await pw.run(rawShell('id -u; echo own >&2'), { sudo: true })).toEqual({ code: 0, stdout: '0\n', stderr: 'own\n' });
    } finally {
      await guarded.exec('rm -f /etc/sudoers.d/zz-lecture');
    }
  });

  it('says what to do when sudo wants a password that is missing or wrong', async () => {
    const none = await connect(settings(guarded), { nodeName: 'pi-b' });
    const missing = await rejection(none.run(rawShell('id -u'), { sudo: true }));
    expect(missing.message).toBe('sudo on node pi-b asks for a password: set ssh.sudoPasswordEnv in the inventory.');

    const bad = await connect(settings(guarded, { sudoPasswordEnv: 'SUDO_PW' }), { nodeName: 'pi-b', env: { HOME: home, SUDO_PW: 'not-it' } });
    const wrong = await rejection(bad.run(rawShell('id -u'), { sudo: true }));
    expect(wrong.message).toBe('sudo on node pi-b refused the password from SUDO_PW (ssh.sudoPasswordEnv).');
    expect(wrong.message + (wrong.hint ?? '')).not.toContain('not-it');
    // The connection is still good for other work.
    expect((await bad.run(rawShell('echo still'))).stdout).toBe('still\n');

    const unset = await rejection(connect(settings(guarded, { sudoPasswordEnv: 'SUDO_PW' }), { nodeName: 'pi-b' }));
    expect(unset.message).toBe('The environment variable SUDO_PW is not set, but the inventory names it in ssh.sudoPasswordEnv for node pi-b.');
  });

  it('refuses a changed host key with both fingerprints, and honours hashed entries of the user known_hosts', async () => {
    const file = join(dir, 'rekey_known_hosts');
    const before = rekeyed.hostKey().split(' ')[1]!;
    await connect(settings(rekeyed), { knownHosts: knownHosts(file) });
    await rekeyed.regenerateHostKeys();
    const after = rekeyed.hostKey().split(' ')[1]!;
    const err = await rejection(connect(settings(rekeyed, { connectRetries: 2 }), { nodeName: 'pi-d', knownHosts: knownHosts(file) }));
    expect(err).toBeInstanceOf(HostKeyMismatchError);
    expect(err.message).toBe(
      `The SSH host key of node pi-d (${rekeyed.address}:22) has changed: expected ${fingerprintSha256(before)}, got ${fingerprintSha256(after)}. Refusing to connect.`,
    );
    expect(err.hint).toContain(file);
    expect(await readFile(file, 'utf8')).toBe(`${rekeyed.address} ssh-ed25519 ${before}\n`);

    // The user's ~/.ssh/known_hosts, hashed, holding the old key: refused too, naming that file.
    const userFile = join(dir, 'user_known_hosts');
    const salt = Buffer.from('0123456789abcdefghij');
    await writeFile(userFile, `${hashHostName(rekeyed.address, salt)} ssh-ed25519 ${before}\n`);
    const fromUser = await rejection(connect(settings(rekeyed), { nodeName: 'pi-d', knownHosts: knownHosts(undefined, [userFile]) }));
    expect(fromUser).toBeInstanceOf(HostKeyMismatchError);
    expect(fromUser.hint).toContain(userFile);
    // …and with the current key there, it connects and copies nothing into the tool's file.
    await writeFile(userFile, `${hashHostName(rekeyed.address, salt)} ssh-ed25519 ${after}\n`);
    const ownFile = join(dir, 'own_after_user');
    await connect(settings(rekeyed), { knownHosts: knownHosts(ownFile, [userFile]) });
    expect(existsSync(ownFile)).toBe(false);

    // A key marked @revoked is refused even though the host is otherwise unknown.
    await writeFile(userFile, `@revoked * ssh-ed25519 ${after}\n`);
    const revoked = await rejection(connect(settings(rekeyed), { nodeName: 'pi-d', knownHosts: knownHosts(undefined, [userFile]) }));
    expect(revoked.message).toBe(`The SSH host key ${fingerprintSha256(after)} of node pi-d is marked @revoked in ${userFile}. Refusing to connect.`);
  });

  it('asks for the recorded key type first, so a node known by its ECDSA key is checked against it', async () => {
    const file = join(dir, 'ecdsa_known_hosts');
    const ecdsa = (await readFile(plain.path('/etc/ssh/ssh_host_ecdsa_key.pub'), 'utf8')).split(' ')[1]!;
    await writeFile(file, `${plain.address} ecdsa-sha2-nistp256 ${ecdsa}\n`);
    const t = await connect(settings(plain), { knownHosts: knownHosts(file) });
    expect((await t.run(rawShell('true'))).code).toBe(0);
    expect(await readFile(file, 'utf8')).toBe(`${plain.address} ecdsa-sha2-nistp256 ${ecdsa}\n`);
  });

  it('accept-new tells each new key once, with its SHA256 fingerprint as OpenSSH shows it; a known key is not told again', async () => {
    const file = join(dir, 'accept_new_known_hosts');
    const told: string[] = [];
    const onHostKeyTrusted = (seen: Parameters<NonNullable<ConnectNodeOptions['onHostKeyTrusted']>>[0]) => told.push(describeTrustedKey(seen));
    await connect(settings(plain), { nodeName: 'pi-a', knownHosts: knownHosts(file), onHostKeyTrusted });
    const fingerprint = fingerprintSha256(plain.hostKey().split(' ')[1]!);
    expect(told).toEqual([
      `Trusted the new SSH host key of node pi-a (${plain.address}:22): ED25519 key fingerprint is ${fingerprint}; recorded in ${file} (ssh.hostKeys: accept-new).`,
    ]);
    // What ssh-keygen says of the same key (the fingerprint the operator can compare on the Pi).
    const keygen = spawnSync('ssh-keygen', ['-lf', plain.path('/etc/ssh/ssh_host_ed25519_key.pub')], { encoding: 'utf8' });
    expect(keygen.stdout.split(' ')[1]).toBe(fingerprint);
    await connect(settings(plain), { nodeName: 'pi-a', knownHosts: knownHosts(file), onHostKeyTrusted });
    expect(told).toHaveLength(1);
  });

  it('ssh.hostKeys strict refuses a node in no known_hosts file, naming it; the ssh-keyscan line of the hint records it, and then it connects', async () => {
    const file = join(dir, 'strict_known_hosts');
    const err = await rejection(connect(settings(plain, { hostKeys: 'strict', connectRetries: 2 }), { nodeName: 'pi-a', knownHosts: knownHosts(file) }));
    const fingerprint = fingerprintSha256(plain.hostKey().split(' ')[1]!);
    expect(err.code).toBe('HOST_KEY_UNKNOWN');
    expect(err.message).toBe(
      `The SSH host key of node pi-a (${plain.address}:22) is in no known_hosts file and ssh.hostKeys is strict, so it was not trusted: it presented the ED25519 key ${fingerprint}.`,
    );
    expect(existsSync(file)).toBe(false); // nothing recorded
    const keyscan = /then record the key: (ssh-keyscan .+ >> \S+?)(?: — |\.$)/.exec(err.hint!)?.[1];
    expect(keyscan).toBe(`ssh-keyscan -p 22 -t ed25519 ${plain.address} >> ${file}`);
    expect(spawnSync('sh', ['-c', keyscan!]).status).toBe(0);
    const t = await connect(settings(plain, { hostKeys: 'strict' }), { nodeName: 'pi-a', knownHosts: knownHosts(file) });
    expect((await t.run(rawShell('true'))).code).toBe(0);
  });

  it('a pinned fingerprint: the right key connects (even under strict) and is recorded; any other is refused, whatever known_hosts says', async () => {
    const file = join(dir, 'pinned_known_hosts');
    const fingerprint = fingerprintSha256(plain.hostKey().split(' ')[1]!);
    const told: string[] = [];
    const t = await connect(settings(plain, { hostKeys: 'strict' }), {
      nodeName: 'pi-a',
      knownHosts: knownHosts(file),
      pinnedFingerprint: fingerprint,
      pinField: 'nodes[0].hostKeyFingerprint',
      onHostKeyTrusted: (seen) => told.push(seen.fingerprint),
    });
    expect((await t.run(rawShell('true'))).code).toBe(0);
    expect(told).toEqual([fingerprint]);
    expect(parseKnownHosts(await readFile(file, 'utf8')).map((e) => e.hosts)).toEqual([plain.address]);

    const wrong = 'SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU';
    const err = await rejection(
      connect(settings(plain, { connectRetries: 2 }), {
        nodeName: 'pi-a',
        knownHosts: knownHosts(file),
        pinnedFingerprint: wrong,
        pinField: 'nodes[0].hostKeyFingerprint',
      }),
    );
    expect(err.code).toBe('HOST_KEY_PINNED');
    expect(err.message).toBe(
      `The SSH host key of node pi-a (${plain.address}:22) is ${fingerprint}, but the inventory pins ${wrong} (nodes[0].hostKeyFingerprint). Refusing to connect.`,
    );
  });

  it('reports an unreachable node with the dial error, after bounded retries', async () => {
    const started = Date.now();
    const err = await rejection(connect(settings({ address: '127.0.20.250', port: 22 }, { connectRetries: 2 }), { nodeName: 'pi-9' }));
    expect(err).toBeInstanceOf(ConnectionError);
    expect(err.message).toBe('Could not reach node pi-9 at 127.0.20.250:22 after 3 attempts: connect ECONNREFUSED 127.0.20.250:22.');
    expect(err.hint).toBe('Check nodes[].host and ssh.port for pi-9 in the inventory, that the node is powered on, and that SSH is enabled on it.');
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('gives up on a node that accepts TCP but never speaks SSH, within the connect timeout', async () => {
    const silent = net.createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as net.AddressInfo).port;
    try {
      const started = Date.now();
      const err = await rejection(connect(settings({ address: '127.0.0.1', port }, { connectRetries: 1 }), { nodeName: 'pi-9', connectTimeoutMs: 800 }));
      expect(err.message).toBe(
        `Could not reach node pi-9 at 127.0.0.1:${port} after 2 attempts: timed out after 0.8 s waiting for the SSH handshake (ETIMEDOUT).`,
      );
      expect(Date.now() - started).toBeLessThan(4000);
    } finally {
      silent.close();
    }
  });

  it('reaches a node through a jump host, checking both host keys', async () => {
    const file = join(dir, 'jump_known_hosts');
    const t = await connect(settings(guarded, { jump: { host: plain.address, port: plain.port, user: 'pi', keyPath: lab.keyPath } }), {
      nodeName: 'pi-b',
      knownHosts: knownHosts(file),
    });
    expect((await t.run(rawShell('hostname'))).stdout).toBe('pi-b\n');
    expect(t.connectionCount).toBe(1);
    const hosts = parseKnownHosts(await readFile(file, 'utf8'))
      .map((e) => e.hosts)
      .sort();
    expect(hosts).toEqual([guarded.address, plain.address].sort());

    const deadEnd = await rejection(
      connect(settings({ address: '127.0.20.250', port: 22 }, { jump: { host: plain.address, port: 22 } }), { nodeName: 'pi-9' }),
    );
    expect(deadEnd.message).toMatch(
      new RegExp(
        `^Could not reach node pi-9 at 127\\.0\\.20\\.250:22 through the jump host ${plain.address.replace(/\./g, '\\.')}:22 after 1 attempt: .*(refused|Connection)`,
      ),
    );
    const noJump = await rejection(connect(settings(guarded, { jump: { host: '127.0.20.250', port: 22 } }), { nodeName: 'pi-b' }));
    expect(noJump.message).toBe('Could not reach the jump host 127.0.20.250:22 for node pi-b after 1 attempt: connect ECONNREFUSED 127.0.20.250:22.');
  });

  it('writes files atomically with their mode and owner, reads them back, and leaves no temp files', async () => {
    const t = await connect(settings(guarded, { sudoPasswordEnv: 'SUDO_PW' }), { env: { HOME: home, SUDO_PW: SUDO_PASSWORD } });
    const secret = 'token: abc\n';
    await t.writeFile('/etc/rancher/k3s/config.yaml', secret, { mode: 0o600, sudo: true });
    expect((await guarded.exec('stat -c "%a %U:%G" /etc/rancher/k3s/config.yaml')).stdout).toBe('600 root:root\n');
    expect((await t.readFile('/etc/rancher/k3s/config.yaml', { sudo: true }))?.toString()).toBe(secret);
    // Not readable without sudo, which surfaces as an error naming the file.
    await expect(t.readFile('/etc/rancher/k3s/config.yaml')).rejects.toThrow(/Reading \/etc\/rancher\/k3s\/config.yaml failed on node pi-x/);

    const inodeBefore = (await guarded.exec('stat -c %i /etc/rancher/k3s/config.yaml')).stdout;
    await t.writeFile('/etc/rancher/k3s/config.yaml', 'token: def\n', { mode: 0o600, sudo: true });
    expect((await guarded.exec('stat -c %i /etc/rancher/k3s/config.yaml')).stdout).not.toBe(inodeBefore);
    expect(await readFile(guarded.path('/etc/rancher/k3s/config.yaml'), 'utf8')).toBe('token: def\n');

    const bytes = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7) % 256));
    await t.writeFile('/home/pi/blob.bin', bytes);
    expect((await guarded.exec('stat -c "%a %U" /home/pi/blob.bin')).stdout).toBe('644 pi\n');
    expect(await t.readFile('/home/pi/blob.bin')).toEqual(bytes);
    expect(await t.readFile('/home/pi/does-not-exist')).toBeUndefined();

    await expect(t.writeFile('/etc/not-allowed.conf', 'x')).rejects.toThrow(/Writing \/etc\/not-allowed.conf failed on node pi-x/);
    const leftovers = await guarded.exec('ls -A /home/pi /etc/rancher/k3s /etc | grep revue-pi || true');
    expect(leftovers.stdout).toBe('');
  });

  it('writes several files and runs a script after them in one command; a failed write stops it', async () => {
    const t = await connect(settings(plain));
    const logins = plain.sshLogins();
    const every = Buffer.from(Array.from({ length: 512 }, (_, i) => i % 256));
    const result = await t.writeFilesThenRun(
      [
        { path: '/etc/rancher/k3s/revue-pi-token', content: 'secret\n', mode: 0o600 },
        { path: '/etc/rancher/k3s/config.yaml', content: 'node-name: pi\n', mode: 0o600 },
        { path: '/usr/local/bin/every-byte', content: every, mode: 0o755 },
      ],
      rawShell('stat -c "%a %U %n" /etc/rancher/k3s/revue-pi-token /etc/rancher/k3s/config.yaml /usr/local/bin/every-byte\nexit 4\n'),
      { sudo: true },
    );
    expect(result).toEqual({
      code: 4,
      stdout: '600 root /etc/rancher/k3s/revue-pi-token\n600 root /etc/rancher/k3s/config.yaml\n755 root /usr/local/bin/every-byte\n',
      stderr: '',
    });
    expect(await readFile(plain.path('/usr/local/bin/every-byte'))).toEqual(every);
    expect(plain.sshLogins()).toBe(logins);
    // Without a sudo password the bytes travel in the command's stdin script: no SFTP session on the node.
    const sftpSessions = async () =>
      ((await readFile(join(plain.rootDir, 'lab', 'console.log'), 'utf8')).match(/^Starting session: subsystem 'sftp'/gm) ?? []).length;
    expect(await sftpSessions()).toBe(0);
    // Beyond 1 MiB in all (air-gap tarballs) they go by SFTP first.
    const large = Buffer.alloc(1024 * 1024 + 1, 7);
    expect(await t.writeFilesThenRun([{ path: '/home/pi/large.bin', content: large }], rawShell('stat -c %s /home/pi/large.bin'))).toEqual({
      code: 0,
      stdout: `${large.length}\n`,
      stderr: '',
    });
    expect(await sftpSessions()).toBe(1);
    const failed = await t.writeFilesThenRun([{ path: '/etc/hostname/not-a-folder', content: 'x' }], rawShell('echo after'), { sudo: true });
    expect(failed.code).not.toBe(0);
    expect(failed.stdout).toBe('');
    expect(failed.stderr).toContain('revue-pi: could not write /etc/hostname/not-a-folder');
    // No upload (~/.revue-pi-upload-…) or temp file (.<name>.revue-pi-…) left behind.
    expect((await plain.exec("ls -A /home/pi /etc/rancher/k3s | grep '\\.revue-pi-' || true")).stdout).toBe('');
  });

  it('runs scripts too long for one command line through an uploaded file', async () => {
    const t = await connect(settings(plain));
    const big = Array.from({ length: 6000 }, (_, i) => `echo line-${i} >/dev/null`).join('\n') + '\necho done\n';
    expect(big.length).toBeGreaterThan(100_000);
    expect(await t.run(rawShell(big), { sudo: true })).toEqual({ code: 0, stdout: 'done\n', stderr: '' });
    expect((await plain.exec('ls -A /home/pi | grep revue-pi || true')).stdout).toBe('');
    // Also behind a sudo password, with a timeout, and reading stdin (which must be empty).
    const pw = await connect(settings(guarded, { sudoPasswordEnv: 'SUDO_PW' }), { env: { HOME: home, SUDO_PW: SUDO_PASSWORD } });
    expect(await pw.run(rawShell(`${big}id -u\ncat\nexit 6\n`), { sudo: true, timeoutMs: 30_000 })).toEqual({ code: 6, stdout: 'done\n0\n', stderr: '' });
    expect((await guarded.exec('ls -A /home/pi | grep revue-pi || true')).stdout).toBe('');
  });

  it('stops a command at its timeout with exit 124 and no process left behind', async () => {
    const t = await connect(settings(guarded, { sudoPasswordEnv: 'SUDO_PW' }), { env: { HOME: home, SUDO_PW: SUDO_PASSWORD } });
    const started = Date.now();
    const r = await t.run(rawShell('echo begun; exec sleep 4242'), { timeoutMs: 1000, sudo: true });
    expect(r.code).toBe(124);
    expect(r.stdout).toBe('begun\n');
    expect(Date.now() - started).toBeLessThan(3000);
    let left = '';
    for (let i = 0; i < 40; i++) {
      left = (await guarded.exec('pgrep -f "sleep 424[2]" || true')).stdout;
      if (left === '') break;
      await new Promise((res) => setTimeout(res, 250));
    }
    expect(left).toBe('');
    expect((await t.run(rawShell('echo after'))).stdout).toBe('after\n');
  });

  it('reconnects after a reboot, opening exactly one more connection; gives up on a dead node naming it', async () => {
    const t = await connect(settings(rebooter), { nodeName: 'pi-c' });
    const bootId = (await t.run(rawShell('cat /proc/sys/kernel/random/boot_id'))).stdout;
    await t.run(rawShell('nohup sh -c "sleep 1; systemctl reboot || reboot" >/dev/null 2>&1 &'), { sudo: true });
    // No pause here: the transport waits for the node to close the session as it goes down, then dials again.
    await t.reconnect(30_000, { waitForDropMs: 10_000 }).catch(async (err: Error) => {
      // Say why the simulated node did not come back (the lab's console log), not just that it did not.
      const consoleLog = await readFile(join(rebooter.rootDir, 'lab', 'console.log'), 'utf8').catch(() => '(no console log)');
      throw new Error(`${err.message}\nlab console of pi-c:\n${consoleLog.split('\n').slice(-20).join('\n')}`);
    });
    expect(rebooter.rebootCount()).toBe(1);
    expect((await t.run(rawShell('hostname'))).stdout).toBe('pi-c\n');
    expect((await t.run(rawShell('cat /proc/sys/kernel/random/boot_id'))).stdout).not.toBe(bootId);
    expect(t.connectionCount).toBe(2);

    await rebooter.powerOff();
    const started = Date.now();
    const err = await rejection(t.reconnect(2500));
    expect(err).toBeInstanceOf(ConnectionError);
    expect(err.message).toMatch(
      new RegExp(
        `^Node pi-c at ${rebooter.address.replace(/\./g, '\\.')}:22 did not answer SSH again within 2\\.5 s \\(\\d+ attempts; last: connect ECONNREFUSED`,
      ),
    );
    expect(Date.now() - started).toBeLessThan(4500);

    // Powered on again, the transport reopens by itself on the next commands — once, however many are waiting.
    await rebooter.powerOn();
    const again = await Promise.all(Array.from({ length: 4 }, () => t.run(rawShell('hostname'))));
    expect(again.map((r) => r.stdout)).toEqual(Array(4).fill('pi-c\n'));
    expect(t.connectionCount).toBe(3);
  });
});
