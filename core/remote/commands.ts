import { posix } from 'node:path';
import { joinShell, sh, type ShellScript } from './shell.js';

/**
 * The command lines the SSH transport sends. Pure: every script is built here with `sh` (shell.ts) and unit-tested
 * exactly. Scripts travel without a second quoting: without a sudo password on stdin (buildStdinScriptCommand), with
 * one base64-encoded on the command line (stdin then carries the password). The few values that do appear on a
 * command line (paths, the sudo prompt) are quoted by `sh`, POSIX-style (dash on Raspberry Pi OS).
 */

export type SudoMode =
  /** No sudo. */
  | { kind: 'none' }
  /** No password configured: `sudo -n`, which fails at once instead of prompting. */
  | { kind: 'nopassword' }
  /** A password is configured: `sudo -S -p <prompt>`; the transport writes the password only when the prompt shows. */
  | { kind: 'password'; prompt: string };

export interface ScriptCommandOptions {
  sudo: SudoMode;
  /** Remote `timeout` (TERM, then KILL 5 s later) so nothing lingers after the local deadline. */
  timeoutSeconds?: number;
}

/**
 * With `sudo -S`, stdin carries the password; the script itself gets /dev/null as stdin so it can never
 * swallow or wait on it. Prepended on the script's first line so its line numbers stay the same.
 */
export const STDIN_GUARD = 'exec </dev/null; ';

function prefix(opts: ScriptCommandOptions): ShellScript {
  const parts: ShellScript[] = [];
  if (opts.sudo.kind === 'nopassword') parts.push(sh`sudo -n `);
  if (opts.sudo.kind === 'password') parts.push(sh`sudo -S -p ${opts.sudo.prompt} `);
  if (opts.timeoutSeconds !== undefined) parts.push(sh`timeout -k 5 ${Math.max(1, Math.ceil(opts.timeoutSeconds))} `);
  return joinShell(parts, '');
}

/** The script as it is actually run (the stdin guard added under `sudo -S`). */
export function effectiveScript(script: ShellScript, sudo: SudoMode): ShellScript {
  return sudo.kind === 'password' ? sh`exec </dev/null; ${script}` : script;
}

/**
 * `sh -s`, behind sudo/timeout as asked, for a script sent on stdin (stdinScript). The login shell hands this
 * single command straight to exec: no subshell, no decoder — on a Pi every process started costs milliseconds,
 * and a re-run sends one round trip per node. Not for `sudo -S`, whose stdin carries the password.
 */
export function buildStdinScriptCommand(opts: ScriptCommandOptions): ShellScript {
  if (opts.sudo.kind === 'password') throw new Error('a script cannot travel on stdin under sudo -S (stdin carries the password)');
  return sh`${prefix(opts)}sh -s`;
}

/**
 * What goes on stdin for buildStdinScriptCommand: the script as one `{ … }` block with /dev/null as its stdin,
 * so the shell reads all of it before running any, and no command in it can read (or wait on) the rest.
 */
export function stdinScript(script: ShellScript): ShellScript {
  return sh`{\n${script}\n} </dev/null\n`;
}

/** `sh -c "$(echo <b64> | base64 -d)"`, behind sudo/timeout as asked (used under `sudo -S`). */
export function buildScriptCommand(script: ShellScript, opts: ScriptCommandOptions): ShellScript {
  const b64 = Buffer.from(effectiveScript(script, opts.sudo).text, 'utf8').toString('base64');
  return sh`${prefix(opts)}sh -c "$(echo ${b64} | base64 -d)"`;
}

/** A line of base64: only characters sh leaves alone, so it stays as it is. */
function b64Word(b64: string): ShellScript {
  return sh`${b64}`;
}

/** Runs a script uploaded to `path` (for scripts too long for one command line), removing it afterwards. */
export function buildScriptFileCommand(path: string, opts: ScriptCommandOptions): ShellScript {
  return sh`${prefix(opts)}sh ${path}; rc=$?; rm -f ${path}; exit $rc`;
}

/** Inline scripts longer than this (base64) go through a file: Linux caps one argument at 128 KiB. */
export const MAX_INLINE_SCRIPT_BASE64 = 64 * 1024;

/** The temp name beside `target` that a write goes to before the atomic rename (ignored by K3s: not .yaml). */
export function tempNameBeside(target: string, token: string): string {
  return posix.join(posix.dirname(target), `.${posix.basename(target)}.revue-pi-${token}`);
}

/** One uploaded file and where it goes (buildInstallFilesScript). */
export interface InstallFile {
  uploaded: string;
  target: string;
  mode: number;
  /** Names the temp file beside the target. */
  token: string;
}

/** `{ rc=$?; echo "revue-pi: could not write $dstN" >&2; exit $rc; }`: how a failed write ends the script. */
function writeFailed(n: number): ShellScript {
  return sh`{ rc=$?; echo "revue-pi: could not write $dst${n}" >&2; exit $rc; }`;
}

/**
 * Moves uploaded files into place atomically, each: `install -m MODE` to a temp name in the target's folder (as
 * root under sudo, so the owner is root), then `mv` over the target. On FAT (Raspberry Pi's /boot/firmware) modes
 * cannot be set, so the copy goes without one there. The first failure stops the script (its exit code, and a
 * line naming the file); the uploads are removed either way. On success the shell goes on with whatever follows
 * (writeFilesThenRun puts a script there), with no trap left behind.
 */
export function buildInstallFilesScript(files: InstallFile[]): ShellScript {
  const lines: ShellScript[] = [];
  files.forEach((f, i) => {
    const n = i + 1;
    lines.push(sh`src${n}=${f.uploaded}`, sh`dst${n}=${f.target}`, sh`tmp${n}=${tempNameBeside(f.target, f.token)}`);
  });
  lines.push(sh`trap ${`rm -f ${files.map((_, i) => `"$src${i + 1}" "$tmp${i + 1}"`).join(' ')}`} EXIT`);
  files.forEach((f, i) => {
    const n = i + 1;
    const m = f.mode.toString(8).padStart(4, '0');
    // The folder is known here: no dirname, and mkdir only when it is missing (each process costs on a Pi).
    const dir = posix.dirname(f.target);
    const failed = writeFailed(n);
    lines.push(
      sh`[ -d ${dir} ] || mkdir -p ${dir} || ${failed}`,
      sh`if ! install -m ${m} "$src${n}" "$tmp${n}" 2>/dev/null; then`,
      sh`  rm -f "$tmp${n}"`,
      sh`  case "$(stat -f -c %T ${dir})" in`,
      sh`    msdos|vfat|fat|exfat) cp "$src${n}" "$tmp${n}" ;;`,
      sh`    *) install -m ${m} "$src${n}" "$tmp${n}" ;;`,
      sh`  esac || ${failed}`,
      sh`fi`,
      sh`mv -f "$tmp${n}" "$dst${n}" || ${failed}`,
    );
  });
  lines.push(
    sh`rm -f ${joinShell(
      files.map((_, i) => sh`"$src${i + 1}"`),
      ' ',
    )}`,
  );
  lines.push(sh`trap - EXIT`, sh``);
  return joinShell(lines);
}

/** One file whose bytes travel inside the script itself (buildInlineFilesScript). */
export interface InlineFile {
  content: Uint8Array;
  target: string;
  mode: number;
  /** Names the temp file beside the target. */
  token: string;
}

/** Files carried inside a stdin script up to this many bytes in all; larger ones (air-gap tarballs) go by SFTP. */
export const MAX_INLINE_FILES_BYTES = 1024 * 1024;

/** Ends every here-document of buildInlineFilesScript: base64 never holds `_`, so no content line can equal it. */
export const INLINE_FILE_END = 'REVUE_PI_END_OF_FILE';

/**
 * Writes files whose bytes travel in the script (base64 in a here-document), for a script sent on stdin only: that
 * is never a command line, so tokens may travel this way. Each file: decoded by `base64 -d` into a temp name in the
 * target's folder, created with the mode by the umask of a subshell, then `mv` over the target. No chmod but for
 * execute or special bits, which a redirection cannot set (none go to FAT, where chmod fails: boot files are 0644).
 * Against buildInstallFilesScript: no SFTP session to open (an sftp-server process and its round trips per
 * connection) and no uploads to remove. Failures as there.
 */
export function buildInlineFilesScript(files: InlineFile[]): ShellScript {
  const lines: ShellScript[] = [];
  files.forEach((f, i) => {
    const n = i + 1;
    lines.push(sh`dst${n}=${f.target}`, sh`tmp${n}=${tempNameBeside(f.target, f.token)}`);
  });
  lines.push(sh`trap ${`rm -f ${files.map((_, i) => `"$tmp${i + 1}"`).join(' ')}`} EXIT`);
  files.forEach((f, i) => {
    const n = i + 1;
    const failed = writeFailed(n);
    const umask = (~f.mode & 0o777).toString(8).padStart(4, '0');
    const dir = posix.dirname(f.target);
    const b64 =
      Buffer.from(f.content)
        .toString('base64')
        .match(/.{1,76}/g) ?? [];
    lines.push(
      sh`[ -d ${dir} ] || mkdir -p ${dir} || ${failed}`,
      sh`(umask ${umask} && base64 -d > "$tmp${n}") <<'${INLINE_FILE_END}' || ${failed}`,
      ...b64.map(b64Word),
      sh`${INLINE_FILE_END}`,
    );
    // A new file gets at most 0666 from a redirection: execute and special bits need chmod.
    if (f.mode & 0o7111) lines.push(sh`chmod ${f.mode.toString(8).padStart(4, '0')} "$tmp${n}" || ${failed}`);
    lines.push(sh`mv -f "$tmp${n}" "$dst${n}" || ${failed}`);
  });
  lines.push(sh`trap - EXIT`, sh``);
  return joinShell(lines);
}

/** Exit code and stderr line by which buildReadFileScript says "no such file". */
export const NO_SUCH_FILE_EXIT = 3;
export const NO_SUCH_FILE_MESSAGE = 'revue-pi: no such file';

/** Prints a file base64-encoded, or exits NO_SUCH_FILE_EXIT when it does not exist. */
export function buildReadFileScript(path: string): ShellScript {
  return sh`if [ ! -e ${path} ]; then echo ${NO_SUCH_FILE_MESSAGE} >&2; exit ${NO_SUCH_FILE_EXIT}; fi
base64 ${path}
`;
}

/** What sudo's stderr says about authentication, given the prompt marker the transport chose. */
export interface SudoStderr {
  /** How many times sudo printed the prompt (2+ means the password was refused). */
  prompts: number;
  /** stderr without the prompt markers. */
  stderr: string;
  /** sudo -n refused because it needs a password. */
  passwordRequired: boolean;
  /** sudo said the password was wrong. */
  incorrectPassword: boolean;
  /** The user is not allowed to use sudo. */
  notAllowed: boolean;
}

/**
 * Everything sudo prints before its (last) prompt is its own talk — the first-use lecture, "Sorry, try again." —
 * since the command only starts after the password is accepted; so the command's stderr is what follows it.
 */
export function parseSudoStderr(stderr: string, prompt: string | undefined): SudoStderr {
  const parts = prompt ? stderr.split(prompt) : [stderr];
  const prompts = parts.length - 1;
  const cleaned = parts[parts.length - 1] ?? '';
  const sudoTalk = parts.slice(0, -1).join('');
  return {
    prompts,
    stderr: cleaned,
    passwordRequired: /^sudo: (a password is required|a terminal is required)/m.test(cleaned),
    incorrectPassword: /^sudo: (\d+ )?incorrect password attempts?|^Sorry, try again\./m.test(sudoTalk + cleaned),
    notAllowed: /^sudo: .*(is not in the sudoers file|is not allowed to execute)|^[^\n]* is not in the sudoers file/m.test(cleaned),
  };
}
