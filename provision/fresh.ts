import type { InventoryNode } from '../core/inventory/schema.js';
import type { NodeFacts } from './facts.js';

/** Stock Raspberry Pi OS Bookworm (64-bit) boot files, as Imager writes them. */
export const STOCK_BOOKWORM_CMDLINE =
  'console=serial0,115200 console=tty1 root=PARTUUID=4e639091-02 rootfstype=ext4 fsck.repair=yes rootwait quiet splash plymouth.ignore-serial-consoles cfg80211.ieee80211_regdom=GB\n';

export const STOCK_BOOKWORM_CONFIG = `# For more options and information see
# http://rptl.io/configtxt
# Some settings may impact device functionality. See link above for details

# Uncomment some or all of these to enable the optional hardware interfaces
#dtparam=i2c_arm=on
#dtparam=i2s=on
#dtparam=spi=on

# Enable audio (loads snd_bcm2835)
dtparam=audio=on

# Additional overlays and parameters are documented
# /boot/firmware/overlays/README

# Automatically load overlays for detected cameras
camera_auto_detect=1

# Automatically load overlays for detected DSI displays
display_auto_detect=1

# Automatically load initramfs files, if found
auto_initramfs=1

# Enable DRM VC4 V3D driver
dtoverlay=vc4-kms-v3d
max_framebuffers=2

# Don't have the firmware create an initial video= setting in cmdline.txt.
# Use the kernel's default instead.
disable_fw_kms_setup=1

# Run in 64-bit mode
arm_64bit=1

# Disable compensation for displays with overscan
disable_overscan=1

# Run as fast as firmware / board allows
arm_boost=1

[cm4]
# Enable host mode on the 2711 built-in XHCI USB controller.
# This line should be removed if the legacy DWC2 controller is required
# (e.g. for USB device mode) or if USB support is not required.
otg_mode=1

[cm5]
dtoverlay=dwc2,dr_mode=host

[all]
`;

/**
 * The facts of a Pi 5 fresh from Imager, for `plan --offline`: nothing is probed, so the plan shows
 * everything `up` would do to a new node.
 */
export function freshPiFacts(_node: InventoryNode): NodeFacts {
  return {
    model: 'Raspberry Pi 5 Model B Rev 1.0',
    arch: 'aarch64',
    kernel: '6.12.47+rpt-rpi-2712',
    pageSize: 16384,
    os: { id: 'debian', versionId: '12', codename: 'bookworm', prettyName: 'Debian GNU/Linux 12 (bookworm)' },
    memoryBytes: 8 * 1024 ** 3,
    cpuCores: 4,
    memoryCgroupActive: false,
    bootedCmdline: `cgroup_disable=memory ${STOCK_BOOKWORM_CMDLINE.trim()}`,
    bootId: '',
    cmdlinePath: '/boot/firmware/cmdline.txt',
    cmdline: STOCK_BOOKWORM_CMDLINE,
    configPath: '/boot/firmware/config.txt',
    config: STOCK_BOOKWORM_CONFIG,
    hostname: 'raspberrypi',
    hosts: '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\nff02::1\t\tip6-allnodes\nff02::2\t\tip6-allrouters\n\n127.0.1.1\traspberrypi\n',
  };
}
