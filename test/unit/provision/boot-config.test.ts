import { describe, expect, it } from 'vitest';
import { cmdlineEnablesMemoryCgroup, ensureCmdlineCgroups, ensureConfigKernel, ensureHostsEntry, renderPromiscUnit } from '../../../provision/boot-config.js';
import { STOCK_BOOKWORM_CMDLINE, STOCK_BOOKWORM_CONFIG } from '../../../provision/fresh.js';

const BASE = 'console=serial0,115200 console=tty1 root=PARTUUID=4e639091-02 rootfstype=ext4 fsck.repair=yes rootwait';

describe('ensureCmdlineCgroups', () => {
  it.each([
    ['stock file with trailing newline', `${BASE}\n`, `${BASE} cgroup_memory=1 cgroup_enable=memory\n`, true],
    ['stock file without trailing newline', BASE, `${BASE} cgroup_memory=1 cgroup_enable=memory\n`, true],
    ['flags already present', `${BASE} cgroup_memory=1 cgroup_enable=memory\n`, `${BASE} cgroup_memory=1 cgroup_enable=memory\n`, false],
    ['flags present in the other order', `${BASE} cgroup_enable=memory cgroup_memory=1\n`, `${BASE} cgroup_enable=memory cgroup_memory=1\n`, false],
    ['only one flag present', `${BASE} cgroup_memory=1\n`, `${BASE} cgroup_memory=1 cgroup_enable=memory\n`, true],
    [
      'flags duplicated',
      `${BASE} cgroup_memory=1 cgroup_enable=memory cgroup_memory=1 cgroup_enable=memory\n`,
      `${BASE} cgroup_memory=1 cgroup_enable=memory\n`,
      true,
    ],
    ['split over two lines', `${BASE}\nquiet splash\n`, `${BASE} quiet splash cgroup_memory=1 cgroup_enable=memory\n`, true],
    ['a cgroup_disable=memory in the file', `${BASE} cgroup_disable=memory\n`, `${BASE} cgroup_memory=1 cgroup_enable=memory\n`, true],
    ['extra spaces', `  ${BASE}   quiet  \n`, `${BASE} quiet cgroup_memory=1 cgroup_enable=memory\n`, true],
  ])('%s', (_name, input, expected, changed) => {
    const edit = ensureCmdlineCgroups(input);
    expect(edit.content).toBe(expected);
    expect(edit.changed).toBe(changed);
    // Idempotent: applying the edit to its own output changes nothing.
    expect(ensureCmdlineCgroups(edit.content)).toEqual({ content: expected, changed: false });
  });

  it('keeps the stock Bookworm line intact and adds the flags at its end', () => {
    expect(ensureCmdlineCgroups(STOCK_BOOKWORM_CMDLINE).content).toBe(STOCK_BOOKWORM_CMDLINE.trimEnd() + ' cgroup_memory=1 cgroup_enable=memory\n');
  });
});

describe('cmdlineEnablesMemoryCgroup', () => {
  it('lets the last of enable/disable win, as the kernel does', () => {
    expect(cmdlineEnablesMemoryCgroup(`cgroup_disable=memory ${BASE} cgroup_enable=memory`)).toBe(true);
    expect(cmdlineEnablesMemoryCgroup(`cgroup_enable=memory ${BASE} cgroup_disable=memory`)).toBe(false);
    expect(cmdlineEnablesMemoryCgroup(`cgroup_disable=memory ${BASE}`)).toBe(false);
  });
});

describe('ensureConfigKernel', () => {
  it('adds kernel8.img under the stock [all] section with a reason', () => {
    const edit = ensureConfigKernel(STOCK_BOOKWORM_CONFIG, true);
    expect(edit.changed).toBe(true);
    expect(edit.content).toBe(STOCK_BOOKWORM_CONFIG + '# added by revue-pi: 4K-page kernel (MongoDB/jemalloc images need it)\nkernel=kernel8.img\n');
    expect(ensureConfigKernel(edit.content, true).changed).toBe(false);
  });

  it('opens an [all] section when the file ends inside a conditional one', () => {
    const edit = ensureConfigKernel('arm_64bit=1\n[pi4]\narm_boost=1\n', true);
    expect(edit.content).toBe(
      'arm_64bit=1\n[pi4]\narm_boost=1\n\n[all]\n# added by revue-pi: 4K-page kernel (MongoDB/jemalloc images need it)\nkernel=kernel8.img\n',
    );
  });

  it('replaces a different kernel= line in [all] and ignores one inside [pi4]', () => {
    expect(ensureConfigKernel('kernel=kernel_2712.img\n[pi4]\nkernel=kernel8.img\n[all]\n', true).content).toBe(
      'kernel=kernel8.img\n[pi4]\nkernel=kernel8.img\n[all]\n',
    );
  });

  it('leaves a file that already has it alone', () => {
    expect(ensureConfigKernel('arm_64bit=1\nkernel=kernel8.img\n', true)).toEqual({ content: 'arm_64bit=1\nkernel=kernel8.img\n', changed: false });
  });

  it('removes only its own line when the option is off', () => {
    const withOurs = ensureConfigKernel(STOCK_BOOKWORM_CONFIG, true).content;
    expect(ensureConfigKernel(withOurs, false)).toEqual({ content: STOCK_BOOKWORM_CONFIG, changed: true });
    expect(ensureConfigKernel('kernel=kernel8.img\n', false)).toEqual({ content: 'kernel=kernel8.img\n', changed: false });
  });
});

describe('ensureHostsEntry', () => {
  const stock = '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n\n127.0.1.1\traspberrypi\n';
  it('renames the 127.0.1.1 entry', () => {
    expect(ensureHostsEntry(stock, 'pi-1')).toEqual({ content: stock.replace('raspberrypi', 'pi-1'), changed: true });
  });
  it('adds the entry when missing and is idempotent', () => {
    const edit = ensureHostsEntry('127.0.0.1\tlocalhost\n', 'pi-1');
    expect(edit.content).toBe('127.0.0.1\tlocalhost\n127.0.1.1\tpi-1\n');
    expect(ensureHostsEntry(edit.content, 'pi-1').changed).toBe(false);
  });
});

describe('renderPromiscUnit', () => {
  it('reapplies promiscuous mode on the named interface at boot', () => {
    const unit = renderPromiscUnit('wlan0');
    expect(unit).toContain('ExecStart=/usr/sbin/ip link set wlan0 promisc on\n');
    expect(unit).toContain('Type=oneshot\n');
    expect(unit).toContain('WantedBy=multi-user.target\n');
  });
});
