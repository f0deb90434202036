import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderPromiscUnit } from '../../../provision/boot-config.js';
import { execArgument, execLine, renderSystemdUnit, unitValue } from '../../../provision/systemd-unit.js';
import { tempDir } from '../../fakes/temp-dir.js';

/** The unit revue-pi has always written for wlan0: a converged node must not see it change. */
const WLAN0_UNIT = [
  '# Written by revue-pi: MetalLB L2 addresses only answer ARP over Wi-Fi in promiscuous mode.',
  '[Unit]',
  'Description=Promiscuous mode on wlan0 for MetalLB L2 (revue-pi)',
  'After=network-online.target',
  'Wants=network-online.target',
  '',
  '[Service]',
  'Type=oneshot',
  'ExecStart=/usr/sbin/ip link set wlan0 promisc on',
  'RemainAfterExit=yes',
  '',
  '[Install]',
  'WantedBy=multi-user.target',
  '',
].join('\n');

describe('renderSystemdUnit', () => {
  it('renders the Wi-Fi unit byte for byte as before', () => {
    expect(renderPromiscUnit('wlan0')).toBe(WLAN0_UNIT);
  });

  it.each([
    ['wlan0; touch /tmp/pwned', '"wlan0; touch /tmp/pwned"'],
    ['$(id)', '"$$(id)"'],
    ['${HOME}', '"$${HOME}"'],
    ['%n', '"%%n"'],
    ['a"b\\c', '"a\\"b\\\\c"'],
    ["it's", `"it's"`],
    [';', '\\;'],
    ['', '""'],
    ['wlan0', 'wlan0'],
  ])('quotes a command-line argument per systemd.service: %j → %s', (arg, written) => {
    expect(execArgument(arg)).toBe(written);
  });

  it.each(['wlan0\nExecStartPre=/bin/sh -c id', 'wlan0\rX', 'a\u0000b', 'tab\there'])('refuses a line break or control character anywhere: %j', (value) => {
    expect(() => execArgument(value)).toThrow(/control characters/);
    expect(() => unitValue(value)).toThrow(/control characters/);
    expect(() => renderPromiscUnit(value)).toThrow(TypeError);
  });

  it('doubles % in plain values, refuses a trailing backslash, and wants an absolute program', () => {
    expect(unitValue('50% on')).toBe('50%% on');
    expect(() => unitValue('x\\')).toThrow(/backslash/);
    expect(() => execLine(['ip', 'link'])).toThrow(/absolute path/);
    expect(() => execLine(['/usr/sbin/ip link', 'x'])).toThrow(/absolute path/);
    expect(() => renderSystemdUnit({ sections: [{ name: 'Service', entries: [['Exec Start', 'x']] }] })).toThrow(/setting name/);
  });

  it('a hostile interface name stays one argument on one line: no setting or command is added', () => {
    const unit = renderPromiscUnit('wlan0; /bin/sh -c "id" ; $(reboot) %h');
    const settings = unit
      .split('\n')
      .filter((l) => /^[A-Za-z]+=/.test(l))
      .map((l) => l.slice(0, l.indexOf('=')));
    expect(settings).toEqual(['Description', 'After', 'Wants', 'Type', 'ExecStart', 'RemainAfterExit', 'WantedBy']);
    expect(unit).toContain('ExecStart=/usr/sbin/ip link set "wlan0; /bin/sh -c \\"id\\" ; $$(reboot) %%h" promisc on\n');
  });

  // systemd's own parser, where this machine has it: the escaped unit is valid.
  const analyze = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
  it.skipIf(analyze.status !== 0)('systemd-analyze verify accepts the units, hostile values included', () => {
    const dir = tempDir('unit');
    try {
      for (const [i, iface] of ['wlan0', 'wlan0; touch /x', '$(id) %n "q" \\ ;'].entries()) {
        const file = join(dir, `revue-pi-test-${i}.service`);
        writeFileSync(file, renderPromiscUnit(iface).replace('/usr/sbin/ip', '/bin/true'));
        const r = spawnSync('systemd-analyze', ['verify', '--man=no', file], { encoding: 'utf8' });
        expect(r.stderr.split('\n').filter((l) => l.includes(file) && !/network-online|multi-user/.test(l))).toEqual([]);
        expect(r.status).toBe(0);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
