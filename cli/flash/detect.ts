/**
 * What is in the folder given as --boot: is it a Raspberry Pi boot partition, and which image generation
 * wrote it. Pure: works on the folder's file names and the text of a few small files.
 */

export type ImageGeneration = 'bookworm' | 'trixie';

/** File name → text for the small files flash reads; `null` for anything present but not read (binaries, folders). */
export type BootFiles = Record<string, string | null>;

/** The cloud-init NoCloud seed files Raspberry Pi OS Trixie images ship on the boot partition (pi-gen stage2/04-cloud-init). */
export const CLOUD_INIT_FILES = ['user-data', 'meta-data', 'network-config'] as const;

/**
 * What is missing for `names` to look like a Pi boot partition: config.txt and cmdline.txt, and firmware
 * (a start*.elf for Pi 4 and older, or a bcm2712*.dtb device tree for the Pi 5). Empty = looks like one.
 */
export function missingBootFiles(names: readonly string[]): string[] {
  const missing: string[] = [];
  if (!names.includes('config.txt')) missing.push('config.txt');
  if (!names.includes('cmdline.txt')) missing.push('cmdline.txt');
  const firmware = names.some((n) => /^start.*\.elf$/.test(n) || /^bcm2712.*\.dtb$/.test(n));
  if (!firmware) missing.push('firmware files (start*.elf or bcm2712*.dtb)');
  return missing;
}

/** True when the partition carries the Pi 5's device tree (without it a Pi 5 does not boot the card). */
export function hasPi5DeviceTree(names: readonly string[]): boolean {
  return names.some((n) => /^bcm2712.*\.dtb$/.test(n));
}

export interface Detection {
  image: ImageGeneration;
  /** Why, in a few words, for the output. */
  evidence: string;
}

/**
 * Trixie images read cloud-init NoCloud files from the boot partition, and pi-gen puts default
 * user-data / meta-data / network-config there; a cmdline.txt with `ds=nocloud` says the same. Bookworm
 * images have neither, so their absence means Bookworm (first boot through firstrun.sh + systemd.run=).
 */
export function detectImage(files: BootFiles): Detection {
  const seeds = CLOUD_INIT_FILES.filter((name) => name in files);
  if (seeds.length > 0) return { image: 'trixie', evidence: `cloud-init files on the boot partition: ${seeds.join(', ')}` };
  const cmdline = files['cmdline.txt'];
  if (typeof cmdline === 'string' && /(^|\s)ds=nocloud/.test(cmdline)) {
    return { image: 'trixie', evidence: 'cmdline.txt selects cloud-init NoCloud with ds=nocloud' };
  }
  return { image: 'bookworm', evidence: 'no cloud-init files on the boot partition' };
}
