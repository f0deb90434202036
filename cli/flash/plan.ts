import { RevuePiError } from '../../core/errors.js';
import { ensureCmdlineCgroups, ensureConfigKernel } from '../../provision/boot-config.js';
import { renderMetaData, renderNetworkConfig, renderUserData, sshPortNote, type FirstBootSettings } from './cloud-init.js';
import { detectImage, hasPi5DeviceTree, missingBootFiles, type BootFiles, type ImageGeneration } from './detect.js';
import { FIRSTRUN_CMDLINE_ARGS, FIRSTRUN_MARKER, FIRSTRUN_NAME, foreignRunHook, isFirstrunToken, renderFirstrun } from './firstrun.js';

/**
 * Decides what `revue-pi flash` writes into a boot partition. Pure: takes the partition's files (names,
 * and the text of the few it edits) and returns the files to write with their full new content — only
 * those whose content differs, so an empty plan means the card is already set up.
 */

export interface FlashOptions extends FirstBootSettings {
  /** Forced image generation; detected from the files when absent. */
  image?: ImageGeneration;
  /** inventory pi.cgroups: add the memory cgroup flags to cmdline.txt. */
  cgroups: boolean;
  /** inventory pi.kernel4k: boot the 4K-page kernel (config.txt). */
  kernel4k: boolean;
}

export interface FlashChange {
  /** File name inside the boot partition. */
  path: string;
  content: string;
  /** What the file does, one sentence for the output. */
  reason: string;
  /** Whether the file is new or replaces/edits one that is there. */
  action: 'create' | 'update';
}

/** Bad input for flash (exit code 2); the message names the file or option and what to do. */
export class FlashInputError extends RevuePiError {
  constructor(message: string, hint?: string) {
    super(message, { code: 'FLASH_INPUT', hint });
  }
}

const LINUX_USER = /^[a-z_][a-z0-9_-]{0,31}$/;

export function planFlash(files: BootFiles, opts: FlashOptions): FlashChange[] {
  const missing = missingBootFiles(Object.keys(files));
  if (missing.length > 0) {
    throw new FlashInputError(`This does not look like a Raspberry Pi boot partition: ${missing.join(', ')} missing.`);
  }
  if (!LINUX_USER.test(opts.user)) {
    throw new FlashInputError(
      `The SSH user "${opts.user}" cannot be a Linux user name on the Pi; set ssh.user (or the node's ssh.user) to lowercase letters, digits, "_" or "-", starting with a letter or "_".`,
    );
  }
  const cmdline = textOf(files, 'cmdline.txt');
  const config = textOf(files, 'config.txt');
  const image = opts.image ?? detectImage(files).image;
  const keyNote = `${opts.key.type} key ${opts.key.fingerprint}`;
  const netNote = opts.network ? `static ${opts.network.address} via ${opts.network.gateway}, DNS ${opts.network.dns.join(', ')}` : 'DHCP';

  const wanted: Omit<FlashChange, 'action'>[] = [];
  if (image === 'trixie') {
    const userData = renderUserData(opts);
    const networkConfig = renderNetworkConfig(opts);
    wanted.push(
      {
        path: 'user-data',
        content: userData,
        reason: `cloud-init: hostname ${opts.node}, user ${opts.user} with the ${keyNote}, sudo without password, password login off${sshPortNote(opts)}`,
      },
      { path: 'network-config', content: networkConfig, reason: `cloud-init network: ${netNote} on eth0` },
      { path: 'meta-data', content: renderMetaData(opts, userData, networkConfig), reason: 'cloud-init NoCloud instance id for this node' },
    );
  } else {
    const foreign = foreignRunHook(cmdline);
    if (foreign !== undefined) {
      throw new FlashInputError(
        `cmdline.txt already runs ${foreign} at first boot (systemd.run=), and only one such script can run.`,
        'Remove that systemd.run=… argument (and its systemd.run_success_action / systemd.unit arguments) from cmdline.txt, or flash a fresh image.',
      );
    }
    wanted.push({
      path: FIRSTRUN_NAME,
      content: renderFirstrun(opts),
      reason: `first-boot script (run once via systemd.run=): hostname ${opts.node}, user ${opts.user} with the ${keyNote}, sudo without password, password login off${sshPortNote(opts)}, ${netNote}`,
    });
  }

  // cmdline.txt: the cgroup flags (so the first boot already has the memory controller) and, on Bookworm,
  // the systemd.run hook — always last, because the script's cleanup cuts the line from " systemd.run" on.
  const hook = image === 'bookworm';
  if (opts.cgroups || hook) {
    const all = tokens(cmdline);
    let rest = all.filter((t) => !isFirstrunToken(t));
    if (opts.cgroups) rest = tokens(ensureCmdlineCgroups(rest.join(' ')).content);
    // On Trixie a hook someone else put there is kept, after the flags, where it was.
    const tail = hook ? [...FIRSTRUN_CMDLINE_ARGS] : all.filter(isFirstrunToken);
    const what = [opts.cgroups ? 'memory cgroup flags (K3s needs them)' : undefined, hook ? 'the first-boot hook for firstrun.sh' : undefined];
    wanted.push({
      path: 'cmdline.txt',
      content: [...rest, ...tail].join(' ') + '\n',
      reason: `kernel command line: ${what.filter(Boolean).join(' and ')}`,
    });
  }

  const kernel = ensureConfigKernel(config, opts.kernel4k);
  wanted.push({
    path: 'config.txt',
    content: kernel.content,
    reason: opts.kernel4k ? 'kernel=kernel8.img: the 4K-page kernel (MongoDB and jemalloc images need it)' : 'no revue-pi kernel= line (pi.kernel4k is off)',
  });

  return wanted.filter((w) => files[w.path] !== w.content).map((w) => ({ ...w, action: w.path in files ? 'update' : 'create' }));
}

/** Things worth saying that do not stop flash. */
export function flashWarnings(files: BootFiles, opts: Pick<FlashOptions, 'image'>): string[] {
  const warnings: string[] = [];
  const names = Object.keys(files);
  if (!hasPi5DeviceTree(names)) warnings.push('No bcm2712*.dtb on this partition: a Raspberry Pi 5 will not boot this image.');
  const detected = detectImage(files);
  if (opts.image !== undefined && opts.image !== detected.image) {
    warnings.push(`--image ${opts.image} was given, but this looks like ${detected.image}: ${detected.evidence}.`);
  }
  const image = opts.image ?? detected.image;
  const firstrun = files[FIRSTRUN_NAME];
  if (image === 'bookworm' && typeof firstrun === 'string' && !firstrun.includes(FIRSTRUN_MARKER)) {
    warnings.push("firstrun.sh from another tool (e.g. Raspberry Pi Imager) is replaced by revue-pi's.");
  }
  return warnings;
}

function textOf(files: BootFiles, name: string): string {
  const text = files[name];
  if (typeof text !== 'string') throw new FlashInputError(`${name} on the boot partition could not be read as text.`);
  return text;
}

function tokens(line: string): string[] {
  return line.split(/\s+/).filter((t) => t !== '');
}
