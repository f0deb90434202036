import { describe, expect, it } from 'vitest';
import { ensureCmdlineCgroups, ensureConfigKernel } from '../../../provision/boot-config.js';
import { planBootRevert, revertCmdlineCgroups, revertConfigKernel } from '../../../provision/boot-revert.js';

const PI_OS = 'console=serial0,115200 console=tty1 root=PARTUUID=4e639091-02 rootfstype=ext4 fsck.repair=yes rootwait\n';

describe('revertCmdlineCgroups', () => {
  it('takes out exactly the flags up added (one line, newline at the end)', () => {
    const upped = ensureCmdlineCgroups(PI_OS).content;
    expect(revertCmdlineCgroups(upped, PI_OS)).toEqual({ content: PI_OS, changed: true });
    expect(revertCmdlineCgroups(upped)).toEqual({ content: PI_OS, changed: true });
  });

  it('keeps a flag the file as first found already had', () => {
    const original = 'root=PARTUUID=1 rootwait cgroup_enable=memory\n';
    const upped = ensureCmdlineCgroups(original).content;
    expect(upped).toBe('root=PARTUUID=1 rootwait cgroup_enable=memory cgroup_memory=1\n');
    expect(revertCmdlineCgroups(upped, original)).toEqual({ content: original, changed: true });
  });

  it('puts back the cgroup_disable=memory up dropped', () => {
    const original = 'root=PARTUUID=1 cgroup_disable=memory rootwait\n';
    const upped = ensureCmdlineCgroups(original).content;
    expect(revertCmdlineCgroups(upped, original).content).toBe('root=PARTUUID=1 rootwait cgroup_disable=memory\n');
  });

  it('a file without revue-pi flags is left byte for byte', () => {
    expect(revertCmdlineCgroups('root=x  quiet', undefined)).toEqual({ content: 'root=x  quiet', changed: false });
  });
});

describe('revertConfigKernel', () => {
  it('removes the marked line up added and nothing else', () => {
    const original = '[all]\ndtparam=audio=on\n';
    const upped = ensureConfigKernel(original, true).content;
    expect(upped).not.toBe(original);
    expect(revertConfigKernel(upped)).toEqual({ content: original, changed: true });
  });

  it("leaves a user's own kernel= line", () => {
    const own = '[all]\nkernel=kernel8.img\n';
    expect(revertConfigKernel(own)).toEqual({ content: own, changed: false });
  });
});

describe('planBootRevert', () => {
  it('writes what changes and says what stays', () => {
    const cmdline = ensureCmdlineCgroups(PI_OS).content;
    const config = ensureConfigKernel('dtparam=audio=on\n', true).content;
    expect(planBootRevert({ dir: '/boot/firmware', cmdline, cmdlineBackup: PI_OS, config })).toEqual({
      writes: [
        { path: '/boot/firmware/cmdline.txt', content: PI_OS, reason: 'take cgroup_memory=1 cgroup_enable=memory out of /boot/firmware/cmdline.txt' },
        {
          path: '/boot/firmware/config.txt',
          content: 'dtparam=audio=on\n',
          reason: "take revue-pi's kernel=kernel8.img line out of /boot/firmware/config.txt",
        },
      ],
      keeps: ['/boot/firmware/cmdline.txt.revue-pi.bak (the file as up first found it)'],
    });
    expect(planBootRevert({ dir: '/boot', cmdline: PI_OS, config: '' })).toEqual({
      writes: [],
      keeps: ["/boot/cmdline.txt: no cgroup flag of revue-pi's in it", "/boot/config.txt: no line of revue-pi's in it"],
    });
    expect(planBootRevert({}).writes).toEqual([]);
  });
});
