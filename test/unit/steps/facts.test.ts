import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildFactsScript, parseFacts, piGeneration, supportsArmV82 } from '../../../provision/steps/facts.js';
import { buildProbeScript, parseProbeOutput } from '../../../provision/steps/probe.js';

const fixture = readFileSync(new URL('../../fixtures/probe/pi5-bookworm-fresh.txt', import.meta.url), 'utf8');

describe('probe script', () => {
  it('prints a marker per section and never lets one section fail the script', () => {
    expect(buildProbeScript([{ name: 'arch', script: 'uname -m' }, { name: 'pagesize', script: 'getconf PAGESIZE' }])).toBe(
      "echo '@@revue-pi@@ arch'\n{ uname -m\n} 2>/dev/null || true\necho\necho '@@revue-pi@@ pagesize'\n{ getconf PAGESIZE\n} 2>/dev/null || true\necho\n",
    );
  });

  it('reads cmdline.txt from /boot/firmware before /boot', () => {
    const script = buildFactsScript();
    expect(script).toContain('for d in /boot/firmware /boot; do if [ -f $d/cmdline.txt ]');
    expect(script).toContain('cat /sys/fs/cgroup/cgroup.controllers');
    expect(script).not.toContain('/proc/cgroups');
  });

  it('splits output into sections, keeping empty ones', () => {
    const sections = parseProbeOutput("@@revue-pi@@ a\none\ntwo\n@@revue-pi@@ b\n@@revue-pi@@ c\nthree\n");
    expect([...sections.entries()]).toEqual([['a', 'one\ntwo'], ['b', ''], ['c', 'three']]);
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
