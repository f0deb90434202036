import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { renderMetaData, renderNetworkConfig, renderUserData } from '../../../../cli/flash/cloud-init.js';
import { ensureCmdlineCgroups, ensureConfigKernel } from '../../../../provision/boot-config.js';
import { detectImage, missingBootFiles, type BootFiles } from '../../../../cli/flash/detect.js';
import { renderFirstrun } from '../../../../cli/flash/firstrun.js';
import { parsePublicKey } from '../../../../cli/flash/keys.js';
import { FlashInputError, flashWarnings, planFlash, type FlashChange, type FlashOptions } from '../../../../cli/flash/plan.js';

const FIXTURES = fileURLToPath(new URL('../../../fixtures/boot/', import.meta.url));
const TEXT = new Set(['config.txt', 'cmdline.txt', 'firstrun.sh', 'user-data', 'meta-data', 'network-config']);

/** A fixture boot folder as planFlash sees it: every name, the text of the files flash edits. */
function bootFiles(generation: 'bookworm' | 'trixie'): BootFiles {
  const dir = path.join(FIXTURES, generation);
  return Object.fromEntries(
    readdirSync(dir).map((name) => [name, TEXT.has(name) && statSync(path.join(dir, name)).isFile() ? readFileSync(path.join(dir, name), 'utf8') : null]),
  );
}

/** What the card holds after the plan is written. */
function applied(files: BootFiles, changes: FlashChange[]): BootFiles {
  const next = { ...files };
  for (const c of changes) next[c.path] = c.content;
  return next;
}

const parsed = parsePublicKey(readFileSync(path.join(FIXTURES, 'keys/operator_ed25519.pub'), 'utf8'), 'k');
if (!parsed.ok) throw new Error(parsed.problem);
const key = parsed.key;

const opts: FlashOptions = { node: 'pi-1', user: 'pi', key, cgroups: true, kernel4k: true };

const BOOKWORM_CMDLINE =
  'console=serial0,115200 console=tty1 root=PARTUUID=4e639091-02 rootfstype=ext4 fsck.repair=yes rootwait quiet init=/usr/lib/raspberrypi-sys-mods/firstboot';
const TRIXIE_CMDLINE =
  'console=serial0,115200 console=tty1 root=PARTUUID=8a43e0b1-02 rootfstype=ext4 fsck.repair=yes rootwait quiet init=/usr/lib/raspberrypi-sys-mods/firstboot cfg80211.ieee80211_regdom=GB';
const HOOK = 'systemd.run=/boot/firmware/firstrun.sh systemd.run_success_action=reboot systemd.unit=kernel-command-line.target';
const CONFIG_TAIL = '[all]\n# added by revue-pi: 4K-page kernel (MongoDB/jemalloc images need it)\nkernel=kernel8.img\n';

describe('missingBootFiles / detectImage', () => {
  it('accepts both fixture partitions', () => {
    expect(missingBootFiles(Object.keys(bootFiles('bookworm')))).toEqual([]);
    expect(missingBootFiles(Object.keys(bootFiles('trixie')))).toEqual([]);
  });

  it.each([
    [['config.txt', 'cmdline.txt', 'bcm2712-rpi-5-b.dtb'], []],
    [['config.txt', 'cmdline.txt', 'start4.elf'], []],
    [['cmdline.txt', 'start4.elf'], ['config.txt']],
    [['config.txt', 'bcm2712-rpi-5-b.dtb'], ['cmdline.txt']],
    [['config.txt', 'cmdline.txt', 'kernel8.img', 'bcm2711-rpi-4-b.dtb'], ['firmware files (start*.elf or bcm2712*.dtb)']],
    [
      ['Documents', 'notes.txt'],
      ['config.txt', 'cmdline.txt', 'firmware files (start*.elf or bcm2712*.dtb)'],
    ],
  ])('%j is missing %j', (names, missing) => {
    expect(missingBootFiles(names)).toEqual(missing);
  });

  it('Trixie by its cloud-init files, Bookworm by their absence, Trixie by ds=nocloud on the command line', () => {
    expect(detectImage(bootFiles('trixie'))).toEqual({
      image: 'trixie',
      evidence: 'cloud-init files on the boot partition: user-data, meta-data, network-config',
    });
    expect(detectImage(bootFiles('bookworm'))).toEqual({ image: 'bookworm', evidence: 'no cloud-init files on the boot partition' });
    const nocloud = { ...bootFiles('bookworm'), 'cmdline.txt': `${BOOKWORM_CMDLINE} ds=nocloud;s=/boot/firmware/\n` };
    expect(detectImage(nocloud)).toEqual({ image: 'trixie', evidence: 'cmdline.txt selects cloud-init NoCloud with ds=nocloud' });
  });
});

describe('planFlash on a fresh Trixie partition', () => {
  const files = bootFiles('trixie');
  const changes = planFlash(files, opts);

  it('replaces the three cloud-init files and edits cmdline.txt and config.txt, in that order', () => {
    expect(changes.map((c) => [c.path, c.action])).toEqual([
      ['user-data', 'update'],
      ['network-config', 'update'],
      ['meta-data', 'update'],
      ['cmdline.txt', 'update'],
      ['config.txt', 'update'],
    ]);
  });

  it('writes exactly the rendered cloud-init files', () => {
    const userData = renderUserData(opts);
    const networkConfig = renderNetworkConfig(opts);
    expect(changes[0]).toEqual({
      path: 'user-data',
      action: 'update',
      content: userData,
      reason:
        'cloud-init: hostname pi-1, user pi with the ssh-ed25519 key SHA256:XjPTcuxtcqxE1t825epoHDjXINJH9hQjNGaboPhr9cw, sudo without password, password login off',
    });
    expect(changes[1]).toEqual({ path: 'network-config', action: 'update', content: networkConfig, reason: 'cloud-init network: DHCP on eth0' });
    expect(changes[2]).toEqual({
      path: 'meta-data',
      action: 'update',
      content: renderMetaData(opts, userData, networkConfig),
      reason: 'cloud-init NoCloud instance id for this node',
    });
  });

  it('adds the cgroup flags to the one cmdline.txt line, and no first-boot hook', () => {
    expect(changes[3]).toEqual({
      path: 'cmdline.txt',
      action: 'update',
      content: `${TRIXIE_CMDLINE} cgroup_memory=1 cgroup_enable=memory\n`,
      reason: 'kernel command line: memory cgroup flags (K3s needs them)',
    });
  });

  it('adds the 4K-page kernel in the [all] part of config.txt, leaving the rest', () => {
    const original = files['config.txt'] as string;
    expect(changes[4]!.content).toBe(`${original}# added by revue-pi: 4K-page kernel (MongoDB/jemalloc images need it)\nkernel=kernel8.img\n`);
    expect(changes[4]!.content.endsWith(CONFIG_TAIL)).toBe(true);
  });

  it('has nothing left to do once written', () => {
    expect(planFlash(applied(files, changes), opts)).toEqual([]);
  });

  it('changes only network-config and meta-data when a static address is added later', () => {
    const withStatic = { ...opts, network: { address: '192.168.1.101/24', gateway: '192.168.1.1', dns: ['192.168.1.1'] } };
    const again = planFlash(applied(files, changes), withStatic);
    expect(again.map((c) => c.path)).toEqual(['network-config', 'meta-data']);
    expect(again[0]!.reason).toBe('cloud-init network: static 192.168.1.101/24 via 192.168.1.1, DNS 192.168.1.1 on eth0');
  });

  it('keeps a first-boot hook someone else put on a Trixie command line, after the flags', () => {
    const hooked = { ...files, 'cmdline.txt': `${TRIXIE_CMDLINE} systemd.run=/boot/firmware/other.sh\n` };
    const cmdline = planFlash(hooked, opts).find((c) => c.path === 'cmdline.txt');
    expect(cmdline?.content).toBe(`${TRIXIE_CMDLINE} cgroup_memory=1 cgroup_enable=memory systemd.run=/boot/firmware/other.sh\n`);
  });
});

describe('planFlash on a fresh Bookworm partition', () => {
  const files = bootFiles('bookworm');
  const changes = planFlash(files, opts);

  it('creates firstrun.sh first, then hooks it into cmdline.txt after the cgroup flags, then config.txt', () => {
    expect(changes).toEqual([
      {
        path: 'firstrun.sh',
        action: 'create',
        content: renderFirstrun(opts),
        reason:
          'first-boot script (run once via systemd.run=): hostname pi-1, user pi with the ssh-ed25519 key SHA256:XjPTcuxtcqxE1t825epoHDjXINJH9hQjNGaboPhr9cw, sudo without password, password login off, DHCP',
      },
      {
        path: 'cmdline.txt',
        action: 'update',
        content: `${BOOKWORM_CMDLINE} cgroup_memory=1 cgroup_enable=memory ${HOOK}\n`,
        reason: 'kernel command line: memory cgroup flags (K3s needs them) and the first-boot hook for firstrun.sh',
      },
      {
        path: 'config.txt',
        action: 'update',
        content: `${files['config.txt']}# added by revue-pi: 4K-page kernel (MongoDB/jemalloc images need it)\nkernel=kernel8.img\n`,
        reason: 'kernel=kernel8.img: the 4K-page kernel (MongoDB and jemalloc images need it)',
      },
    ]);
    expect(changes.some((c) => ['user-data', 'meta-data', 'network-config'].includes(c.path))).toBe(false);
  });

  it('leaves the cgroup flags on the line after firstrun.sh has cut off its hook (sed s| systemd.run.*||)', () => {
    const afterFirstBoot = changes[1]!.content.replace(/ systemd\.run.*/g, '');
    expect(afterFirstBoot).toBe(`${BOOKWORM_CMDLINE} cgroup_memory=1 cgroup_enable=memory\n`);
  });

  it('has nothing left to do once written', () => {
    expect(planFlash(applied(files, changes), opts)).toEqual([]);
  });

  it('replaces an Imager hook to /boot/firstrun.sh by its own (and says an Imager script is replaced)', () => {
    const imager = {
      ...files,
      'cmdline.txt': `${BOOKWORM_CMDLINE} systemd.run=/boot/firstrun.sh systemd.run_success_action=reboot systemd.unit=kernel-command-line.target\n`,
      'firstrun.sh': '#!/bin/bash\n\nset +e\n# from Imager\nexit 0\n',
    };
    const plan = planFlash(imager, opts);
    expect(plan.find((c) => c.path === 'cmdline.txt')?.content).toBe(`${BOOKWORM_CMDLINE} cgroup_memory=1 cgroup_enable=memory ${HOOK}\n`);
    expect(plan.find((c) => c.path === 'firstrun.sh')?.action).toBe('update');
    expect(flashWarnings(imager, {})).toEqual(["firstrun.sh from another tool (e.g. Raspberry Pi Imager) is replaced by revue-pi's."]);
    expect(flashWarnings(applied(imager, plan), {})).toEqual([]);
  });

  it("refuses a command line that already runs another tool's script", () => {
    const hooked = { ...files, 'cmdline.txt': `${BOOKWORM_CMDLINE} systemd.run=/boot/firmware/setup.sh\n` };
    expect(() => planFlash(hooked, opts)).toThrow(FlashInputError);
    expect(() => planFlash(hooked, opts)).toThrow(
      'cmdline.txt already runs /boot/firmware/setup.sh at first boot (systemd.run=), and only one such script can run.',
    );
  });

  it('with pi.cgroups and pi.kernel4k off: only the hook, and config.txt untouched', () => {
    const plan = planFlash(files, { ...opts, cgroups: false, kernel4k: false });
    expect(plan.map((c) => c.path)).toEqual(['firstrun.sh', 'cmdline.txt']);
    expect(plan[1]!.content).toBe(`${BOOKWORM_CMDLINE} ${HOOK}\n`);
    expect(plan[1]!.reason).toBe('kernel command line: the first-boot hook for firstrun.sh');
  });

  it('with pi.kernel4k turned off later: removes only the line it added', () => {
    const written = applied(files, changes);
    const plan = planFlash(written, { ...opts, kernel4k: false });
    expect(plan).toEqual([{ path: 'config.txt', action: 'update', content: files['config.txt'], reason: 'no revue-pi kernel= line (pi.kernel4k is off)' }]);
  });
});

describe('planFlash options and refusals', () => {
  it('--image trixie on a Bookworm-looking partition creates the cloud-init files, with a warning', () => {
    const files = bootFiles('bookworm');
    const plan = planFlash(files, { ...opts, image: 'trixie' });
    expect(plan.map((c) => [c.path, c.action])).toEqual([
      ['user-data', 'create'],
      ['network-config', 'create'],
      ['meta-data', 'create'],
      ['cmdline.txt', 'update'],
      ['config.txt', 'update'],
    ]);
    expect(flashWarnings(files, { image: 'trixie' })).toEqual([
      '--image trixie was given, but this looks like bookworm: no cloud-init files on the boot partition.',
    ]);
  });

  it('refuses names that are not boot partitions, naming what is missing', () => {
    expect(() => planFlash({ 'notes.txt': 'x', 'config.txt': '' }, opts)).toThrow(
      'This does not look like a Raspberry Pi boot partition: cmdline.txt, firmware files (start*.elf or bcm2712*.dtb) missing.',
    );
  });

  it.each(['Pi', 'root user', '9lives', "o'brien", ''])('refuses the user name %j', (user) => {
    expect(() => planFlash(bootFiles('trixie'), { ...opts, user })).toThrow(/cannot be a Linux user name on the Pi; set ssh.user/);
  });

  it('warns when the partition has no Pi 5 device tree', () => {
    const { 'bcm2712-rpi-5-b.dtb': _a, 'bcm2712d0-rpi-5-b.dtb': _b, ...pi4 } = bootFiles('bookworm');
    expect(planFlash(pi4, opts).length).toBe(3);
    expect(flashWarnings(pi4, {})).toEqual(['No bcm2712*.dtb on this partition: a Raspberry Pi 5 will not boot this image.']);
  });
});

describe('what up finds after the first boot', () => {
  it.each(['bookworm', 'trixie'] as const)('%s: cmdline.txt and config.txt need no edit, so up does not reboot', (generation) => {
    const written = applied(bootFiles(generation), planFlash(bootFiles(generation), opts));
    // Bookworm's firstrun.sh cuts its hook off the line on the first boot (sed 's| systemd.run.*||g').
    const cmdline = (written['cmdline.txt'] as string).replace(/ systemd\.run.*/g, '');
    expect(ensureCmdlineCgroups(cmdline).changed).toBe(false);
    expect(ensureConfigKernel(written['config.txt'] as string, true).changed).toBe(false);
  });
});
