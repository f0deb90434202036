import { lstat, readFile, readdir, realpath, rename, rm, stat, open } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { RevuePiError, formatIssue } from '../../core/errors.js';
import { CLOUD_INIT_FILES, detectImage, missingBootFiles, type BootFiles, type ImageGeneration } from '../flash/detect.js';
import { FIRSTRUN_NAME } from '../flash/firstrun.js';
import { parsePublicKey, type PublicKey } from '../flash/keys.js';
import { parseStaticNetwork } from '../flash/network.js';
import { FlashInputError, flashWarnings, planFlash, type FlashChange } from '../flash/plan.js';
import { loadInventoryForCommand } from '../../core/inventory/for-command.js';
import { sshSettingsFor } from '../../core/inventory/schema.js';
import { resolveSshForCommand } from '../../core/ssh-config/for-command.js';

/**
 * `revue-pi flash`: writes the first-boot config for one node into a mounted boot partition. The thin I/O
 * around planFlash (cli/flash/plan.ts): load the inventory, read the key and the partition's few text
 * files, refuse anything that is not a boot partition or would reach outside it, write what differs.
 */

export interface FlashCommandOptions {
  /** The mounted boot partition (bootfs). */
  boot: string;
  node: string;
  inventory: string;
  /** bookworm | trixie; detected when absent. */
  image?: string;
  /** A .pub file; default: the inventory's keyPath + .pub, else ~/.ssh/id_ed25519.pub, id_ecdsa.pub, id_rsa.pub. */
  sshKey?: string;
  address?: string;
  gateway?: string;
  dns?: string[];
  /** Print what would be written, write nothing. */
  dryRun?: boolean;
}

export interface FlashIo {
  out: (text: string) => void;
  err: (text: string) => void;
  /** What `~` stands for. */
  homeDir: string;
}

const EXIT_OK = 0;
const EXIT_FAILED = 1;
const EXIT_BAD_INPUT = 2;

/** The files flash reads (and may rewrite); everything else on the partition is only listed, never opened. */
const TEXT_FILES = ['config.txt', 'cmdline.txt', FIRSTRUN_NAME, ...CLOUD_INIT_FILES];

/** Same order the SSH transport tries when the inventory names no key (core/remote/ssh.ts). */
const DEFAULT_PUBLIC_KEYS = ['~/.ssh/id_ed25519.pub', '~/.ssh/id_ecdsa.pub', '~/.ssh/id_rsa.pub'];

const defaultIo: FlashIo = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  homeDir: os.homedir(),
};

export async function runFlashCommand(opts: FlashCommandOptions, io: FlashIo = defaultIo): Promise<number> {
  try {
    return await flash(opts, io);
  } catch (error) {
    if (error instanceof FlashInputError) {
      io.err(`revue-pi flash: ${error.message}\n${error.hint ? `  ${error.hint}\n` : ''}Nothing was written.\n`);
      return EXIT_BAD_INPUT;
    }
    if (error instanceof RevuePiError) {
      io.err(`revue-pi flash: ${error.message}\n${error.hint ? `  ${error.hint}\n` : ''}`);
      // An ssh config that cannot be used is bad input, found before anything was written.
      return error.code === 'SSH_CONFIG' ? EXIT_BAD_INPUT : EXIT_FAILED;
    }
    throw error;
  }
}

async function flash(opts: FlashCommandOptions, io: FlashIo): Promise<number> {
  const image = parseImageOption(opts.image);
  const loaded = loadInventoryForCommand(opts.inventory, { err: io.err });
  if (!loaded) return EXIT_BAD_INPUT;
  const { inventory, warnings } = loaded;
  for (const w of warnings) io.err(`warning: ${formatIssue(opts.inventory, w).trim()}\n`);

  const index = inventory.nodes.findIndex((n) => n.name === opts.node);
  const node = inventory.nodes[index];
  if (node === undefined) {
    throw new FlashInputError(
      `There is no node "${opts.node}" in ${opts.inventory}; its nodes are: ${inventory.nodes.map((n) => n.name).join(', ')}.`,
      'Pass one of those names with --node, or add the node to the inventory first.',
    );
  }
  const boot = await openBootFolder(opts.boot);
  // The user and port the Pi is set up for are those up will log in with, ~/.ssh/config included.
  const resolved = resolveSshForCommand(inventory).nodes.get(node.name);
  const ssh = resolved?.settings ?? sshSettingsFor(inventory, node);
  for (const w of resolved?.warnings ?? []) io.err(`warning: ${w}\n`);
  const key = await readPublicKey(opts, ssh.keyPath, node.ssh?.keyPath !== undefined ? `nodes[${index}].ssh.keyPath` : 'ssh.keyPath', io);
  const net = parseStaticNetwork({ address: opts.address, gateway: opts.gateway, dns: opts.dns }, ssh.host, `node ${node.name}`);
  if (!net.ok) throw new FlashInputError(net.problems.join('\n  '));
  if (ssh.passwordEnv !== undefined) {
    io.err(
      `warning: ${opts.inventory} gives node ${node.name} an SSH password (passwordEnv), but flash turns password login off: up will log in with the key ${key.fingerprint}.\n`,
    );
  }

  const settings = {
    node: node.name,
    user: ssh.user,
    key,
    network: net.network,
    sshPort: ssh.port,
    image,
    cgroups: inventory.pi.cgroups,
    kernel4k: inventory.pi.kernel4k,
  };
  const changes = planFlash(boot.files, settings);
  const detected = detectImage(boot.files);
  const generation = image ?? detected.image;
  const how = image !== undefined ? `--image ${image}` : `detected: ${detected.evidence}`;
  io.out(`Boot partition ${boot.root}, node ${node.name}: Raspberry Pi OS ${title(generation)} [${how}]\n`);
  for (const w of flashWarnings(boot.files, { image })) io.err(`warning: ${w}\n`);

  if (changes.length === 0) {
    io.out(`Nothing to change: the first-boot config for ${node.name} is already there.\n`);
    return EXIT_OK;
  }
  if (opts.dryRun) {
    for (const c of changes) io.out(`  would ${c.action === 'create' ? 'create' : 'update'} ${c.path.padEnd(14)} ${c.reason}\n`);
    io.out(`Dry run: nothing was written.\n`);
    return EXIT_OK;
  }
  for (const change of changes) {
    await writeInside(boot.root, change);
    io.out(`  ${change.action === 'create' ? 'created' : 'updated'} ${change.path.padEnd(14)} ${change.reason}\n`);
  }
  io.out(
    `Wrote ${changes.length} file${changes.length === 1 ? '' : 's'}. Eject the card safely, boot the Pi from it, then run: revue-pi up -i ${opts.inventory}\n`,
  );
  return EXIT_OK;
}

function parseImageOption(value: string | undefined): ImageGeneration | undefined {
  if (value === undefined || value === 'auto') return undefined;
  if (value === 'bookworm' || value === 'trixie') return value;
  throw new FlashInputError(`--image "${value}" is not known; use bookworm or trixie (or leave it out to detect it from the boot partition).`);
}

function title(image: ImageGeneration): string {
  return image === 'bookworm' ? 'Bookworm, first boot through firstrun.sh' : 'Trixie, first boot through cloud-init';
}

function expandHome(p: string, home: string): string {
  if (p === '~') return home;
  return p.startsWith('~/') ? path.join(home, p.slice(2)) : path.resolve(p);
}

async function readPublicKey(opts: FlashCommandOptions, keyPath: string | undefined, field: string, io: FlashIo): Promise<PublicKey> {
  let candidates: { file: string; from: string }[];
  if (opts.sshKey !== undefined) {
    const file = expandHome(opts.sshKey, io.homeDir);
    candidates = [{ file, from: '--ssh-key' }];
  } else if (keyPath !== undefined) {
    candidates = [{ file: `${keyPath}.pub`, from: `${field} in ${opts.inventory} + ".pub"` }];
  } else {
    candidates = DEFAULT_PUBLIC_KEYS.map((p) => ({ file: expandHome(p, io.homeDir), from: 'default key' }));
  }
  for (const { file, from } of candidates) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (cause) {
      if (candidates.length > 1 && (cause as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw new FlashInputError(
        `Cannot read the public key ${file} (${from}): ${(cause as Error).message}.`,
        'Pass the .pub file of the key revue-pi logs in with: --ssh-key ~/.ssh/id_ed25519.pub',
      );
    }
    const parsed = parsePublicKey(text, file);
    if (!parsed.ok) throw new FlashInputError(parsed.problem);
    return parsed.key;
  }
  throw new FlashInputError(
    `No public key found: ${opts.inventory} sets no ssh.keyPath and none of ${DEFAULT_PUBLIC_KEYS.join(', ')} exists.`,
    'Pass one with --ssh-key PATH.pub, or set ssh.keyPath in the inventory (flash then uses that path + .pub). Create a key with: ssh-keygen -t ed25519',
  );
}

interface BootFolder {
  /** The real path of the partition's folder (symlinks resolved). */
  root: string;
  files: BootFiles;
}

async function openBootFolder(dir: string): Promise<BootFolder> {
  const given = path.resolve(dir);
  let info;
  try {
    info = await stat(given);
  } catch {
    throw new FlashInputError(
      `The folder ${given} (--boot) does not exist.`,
      "Mount the SD card's boot partition (labelled bootfs) and pass the folder it is mounted on.",
    );
  }
  if (!info.isDirectory()) throw new FlashInputError(`${given} (--boot) is not a folder; pass the folder the boot partition is mounted on.`);
  const root = await realpath(given);
  const names = await readdir(root);
  const missing = missingBootFiles(names);
  if (missing.length > 0) {
    throw new FlashInputError(
      `${root} does not look like a Raspberry Pi boot partition: ${missing.join(', ')} missing.`,
      "Pass the folder where the SD card's boot partition (bootfs) is mounted, e.g. /media/$USER/bootfs.",
    );
  }
  const files: BootFiles = Object.fromEntries(names.map((n) => [n, null]));
  for (const name of TEXT_FILES) {
    if (!names.includes(name)) continue;
    await checkRegularInside(root, name);
    files[name] = await readFile(path.join(root, name), 'utf8');
  }
  return { root, files };
}

/** Refuses a symbolic link (wherever it points: flash writes only regular files in the partition) or a folder. */
async function checkRegularInside(root: string, name: string): Promise<void> {
  const full = path.join(root, name);
  const info = await lstat(full);
  if (info.isSymbolicLink()) {
    let target = '(a missing file)';
    try {
      target = await realpath(full);
    } catch {
      // dangling link: still refused
    }
    const outside = !target.startsWith(root + path.sep);
    throw new FlashInputError(
      `${full} is a symbolic link to ${target}${outside ? `, outside ${root}` : ''}; flash only reads and writes regular files inside the boot partition.`,
      'A real boot partition (FAT) has no links: check that --boot is the mounted SD card.',
    );
  }
  if (!info.isFile()) throw new FlashInputError(`${full} is not a regular file; flash would have to replace it. Remove it or check --boot.`);
}

/** Writes through a temporary file in the same folder and a rename, so a pulled card never holds half a cmdline.txt. */
async function writeInside(root: string, change: FlashChange): Promise<void> {
  if (path.basename(change.path) !== change.path || change.path.startsWith('.')) {
    throw new RevuePiError(`Refusing to write ${change.path}: not a plain file name inside the boot partition.`, { code: 'FLASH_WRITE' });
  }
  const target = path.join(root, change.path);
  try {
    await checkRegularInside(root, change.path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const tmp = path.join(root, `.${change.path}.revue-pi-tmp`);
  try {
    await rm(tmp, { force: true }); // left over from an interrupted run
    const handle = await open(tmp, 'wx', change.path === FIRSTRUN_NAME ? 0o755 : 0o644);
    try {
      await handle.writeFile(change.content, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, target);
  } catch (cause) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw new RevuePiError(`Writing ${target} failed: ${(cause as Error).message}.`, {
      hint: 'Files listed above were written; fix the cause and run flash again (it writes only what still differs).',
      code: 'FLASH_WRITE',
      cause,
    });
  }
}
