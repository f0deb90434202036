import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildFactsScript, pageSizeSection, parseFacts, piGeneration, supportsArmV82 } from '../../../provision/facts.js';
import { buildProbeScript, decodeFileSection, fileSection, parseProbeOutput } from '../../../core/remote/probe.js';
import { sh } from '../../../core/remote/shell.js';
import { tempDir } from '../../fakes/temp-dir.js';

const fixture = readFileSync(new URL('../../fixtures/probe/pi5-bookworm-fresh.txt', import.meta.url), 'utf8');

describe('probe script', () => {
  it('defines dump_file, then prints a marker per section and never lets one section fail the script', () => {
    const script = buildProbeScript([
      { name: 'arch', script: sh`uname -m` },
      { name: 'pagesize', script: sh`getconf PAGESIZE` },
    ]).text;
    expect(script.split('\n').slice(1).join('\n')).toBe(
      "echo '@@revue-pi@@ arch'\n{ uname -m\n} 2>/dev/null || true\necho\necho '@@revue-pi@@ pagesize'\n{ getconf PAGESIZE\n} 2>/dev/null || true\necho\n",
    );
    expect(script.split('\n')[0]).toMatch(/^dump_file\(\) \{/);
  });

  it("runs every section's start before the first section, in the script's own shell, its output discarded", () => {
    const script = buildProbeScript([
      { name: 'arch', script: sh`uname -m` },
      { name: 'slow', start: sh`sleep 1 & slow=$!`, script: sh`wait $slow; echo done` },
    ]).text;
    expect(script.split('\n').slice(1).join('\n')).toBe(
      "{ sleep 1 & slow=$!\n} >/dev/null 2>&1\necho '@@revue-pi@@ arch'\n{ uname -m\n} 2>/dev/null || true\necho\necho '@@revue-pi@@ slow'\n{ wait $slow; echo done\n} 2>/dev/null || true\necho\n",
    );
  });

  it('in a real shell, a started job runs while the sections before its own do, and its own section collects it', () => {
    const dir = tempDir('start');
    try {
      const order = join(dir, 'order');
      // The job records when it ends; the first section, slower than the job, records after it: it ran meanwhile.
      const sections = [
        { name: 'first', script: sh`sleep 0.4; echo first-section >> ${order}; echo a` },
        { name: 'job', start: sh`{ sleep 0.1; echo job >> ${order}; echo noise; } & job=$!`, script: sh`wait $job && echo collected` },
      ];
      const out = execFileSync('/bin/sh', ['-c', buildProbeScript(sections).text], { encoding: 'utf8' });
      const parsed = parseProbeOutput(out);
      expect([parsed.get('first'), parsed.get('job')]).toEqual(['a', 'collected']);
      expect(readFileSync(order, 'utf8')).toBe('job\nfirst-section\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads cmdline.txt from /boot/firmware before /boot, and files with the shell alone', () => {
    const script = buildFactsScript().text;
    expect(script).toContain('for d in /boot/firmware /boot; do if [ -f $d/cmdline.txt ]');
    expect(script).toContain('dump_file /sys/fs/cgroup/cgroup.controllers');
    expect(script).not.toContain('/proc/cgroups');
    expect(script).not.toMatch(/\b(cat|base64|grep|nproc)\b/);
  });

  it('dump_file carries any text exactly: no final newline, blank lines, backslashes, a marker line', () => {
    const dir = tempDir('dump');
    try {
      const texts = {
        plain: 'a\nb\n',
        unterminated: 'console=tty1 root=PARTUUID=x rootwait',
        tricky: '  lead\ttab\n\n\\n \\ back\n@@revue-pi@@ hosts\n|pipe\n~tilde\n\n',
        empty: '',
      };
      for (const [name, text] of Object.entries(texts)) writeFileSync(join(dir, name), text);
      const sections = [...Object.keys(texts), 'missing'].map((name) => fileSection(name, join(dir, name)));
      const out = execFileSync('sh', ['-c', buildProbeScript(sections).text], { encoding: 'utf8' });
      const parsed = parseProbeOutput(out);
      for (const [name, text] of Object.entries(texts)) expect(decodeFileSection(parsed, name)).toBe(text === '' ? undefined : text);
      expect(decodeFileSection(parsed, 'missing')).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('starts only getconf (and uname on a kernel without kernel.arch): everything else is read by the shell itself', () => {
    // Every command the script could start is a logging stand-in on PATH; the shell's builtins are not.
    const dir = tempDir('forks');
    try {
      const log = join(dir, 'started');
      for (const command of [
        'uname',
        'getconf',
        'cat',
        'base64',
        'grep',
        'nproc',
        'tr',
        'sed',
        'cut',
        'head',
        'stat',
        'sha256sum',
        'systemctl',
        'printf',
        'echo',
        'test',
        '[',
        'read',
      ]) {
        writeFileSync(join(dir, command), `#!/bin/sh\necho ${command} >> ${log}\n`, { mode: 0o755 });
      }
      execFileSync('/bin/sh', ['-c', buildFactsScript().text], { encoding: 'utf8', env: { PATH: dir } });
      expect(readFileSync(log, 'utf8').split('\n').filter(Boolean).sort()).toEqual(existsSync('/proc/sys/kernel/arch') ? ['getconf'] : ['getconf', 'uname']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('answers the page size without getconf while the node is in the boot it was read in, with getconf after another boot', () => {
    const dir = tempDir('pagesize');
    try {
      const log = join(dir, 'started');
      // A getconf test double that says so and answers a page size no machine here has.
      writeFileSync(
        join(dir, 'getconf'),
        `#!/bin/sh
echo getconf >> ${log}
echo 65536
`,
        { mode: 0o755 },
      );
      const thisBoot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
      const probe = (bootId: string) => {
        rmSync(log, { force: true });
        const out = execFileSync('/bin/sh', ['-c', buildFactsScript([], { pageSizeOfBoot: { bootId, pageSize: 16384 } }).text], {
          encoding: 'utf8',
          env: { PATH: `${dir}:/usr/bin:/bin` },
        });
        return { pageSize: parseFacts(parseProbeOutput(out)).pageSize, started: existsSync(log) ? readFileSync(log, 'utf8').trim() : '' };
      };
      expect(probe(thisBoot)).toEqual({ pageSize: 16384, started: '' });
      expect(probe('00000000-0000-4000-8000-000000000000')).toEqual({ pageSize: 65536, started: 'getconf' });
      expect(pageSizeSection().script.text).toBe('getconf PAGESIZE');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('splits output into sections, keeping empty ones', () => {
    const sections = parseProbeOutput('@@revue-pi@@ a\none\ntwo\n@@revue-pi@@ b\n@@revue-pi@@ c\nthree\n');
    expect([...sections.entries()]).toEqual([
      ['a', 'one\ntwo'],
      ['b', ''],
      ['c', 'three'],
    ]);
  });
});

describe('parseFacts on a fresh Pi 5 running Bookworm', () => {
  const facts = parseFacts(parseProbeOutput(fixture));
  it('reads identity and resources', () => {
    expect(facts.model).toBe('Raspberry Pi 5 Model B Rev 1.0');
    expect(facts.arch).toBe('aarch64');
    expect(facts.pageSize).toBe(16384);
    expect(facts.os).toEqual({ id: 'debian', versionId: '12', codename: 'bookworm', prettyName: 'Debian GNU/Linux 12 (bookworm)' });
    expect(facts.memoryBytes).toBe(8245296 * 1024);
    expect(facts.cpuCores).toBe(4);
    expect(facts.hostname).toBe('raspberrypi');
  });
  it('sees the memory cgroup off and the boot files under /boot/firmware', () => {
    expect(facts.memoryCgroupActive).toBe(false);
    expect(facts.cmdlinePath).toBe('/boot/firmware/cmdline.txt');
    expect(facts.configPath).toBe('/boot/firmware/config.txt');
    expect(facts.cmdline).toMatch(/^console=serial0,115200 .* cfg80211\.ieee80211_regdom=GB\n$/);
    expect(facts.config).toBe('arm_64bit=1\n[all]\n');
    expect(facts.hosts).toBe('127.0.0.1\tlocalhost\n127.0.1.1\traspberrypi\n');
    expect(facts.promiscUnit).toBeUndefined();
  });
});

describe('board capabilities', () => {
  it.each([
    ['Raspberry Pi 5 Model B Rev 1.0', 'aarch64', 5, true],
    ['Raspberry Pi 4 Model B Rev 1.5', 'aarch64', 4, false],
    ['Raspberry Pi Compute Module 5 Rev 1.0', 'aarch64', 5, true],
    ['', 'aarch64', undefined, false],
  ])('%s', (model, arch, generation, armv82) => {
    expect(piGeneration(model)).toBe(generation);
    expect(supportsArmV82({ model, arch })).toBe(armv82);
  });
});
