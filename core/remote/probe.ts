import { joinShell, sh, type ShellScript } from './shell.js';

/**
 * One probe script per node, one round trip: each section prints a marker line and its output.
 * Sections are data so cluster/ can add its own to the same round trip.
 *
 * The script forks as little as it can: files are read with the shell's own `read` (dash on Raspberry Pi OS),
 * not `cat`/`base64`, because every process started costs a few milliseconds of a Pi's CPU, and ten nodes probed
 * at once are what a re-run waits for. Only what no builtin can learn (uname, page size, a hash, a stat, unit
 * state) starts a program.
 */

export interface ProbeSection {
  /** Letters, digits and `_`: it names the section's marker line. */
  name: string;
  /** POSIX sh; its stdout becomes the section's text. Must not fail the script (guard with `|| true`). */
  script: ShellScript;
  /**
   * POSIX sh run before any section, in the script's own shell, its output discarded: it can start slow programs in
   * the background (saving `$!`) for `script` to `wait` for, so they run while the other sections do.
   */
  start?: ShellScript;
}

const MARKER = '@@revue-pi@@';

/**
 * `dump_file PATH` prints a readable file line by line, each line behind `|`; a last line without a newline
 * behind `~`. So any text survives the trip exactly (a marker inside the file cannot end the section), and no
 * program is started. NUL bytes are dropped (only the device-tree model has one, at its end).
 */
const DUMP_FILE = sh`dump_file() { [ -r "$1" ] || return 0; l=; while IFS= read -r l; do printf '|%s\\n' "$l"; done < "$1"; [ -z "$l" ] || printf '~%s\\n' "$l"; }`;

export function buildProbeScript(sections: ProbeSection[]): ShellScript {
  // The `echo` after each section ends output that lacks a newline.
  const starts = sections.flatMap((s) => (s.start ? [sh`{ ${s.start}\n} >/dev/null 2>&1\n`] : []));
  const bodies = sections.map((s) => sh`echo ${`${MARKER} ${sectionName(s.name)}`}\n{ ${s.script}\n} 2>/dev/null || true\necho`);
  return sh`${DUMP_FILE}\n${joinShell(starts, '')}${joinShell(bodies)}\n`;
}

function sectionName(name: string): string {
  if (!/^[A-Za-z0-9_]+$/.test(name)) throw new TypeError(`probe section name "${name}" must be letters, digits and _`);
  return name;
}

export function parseProbeOutput(stdout: string): Map<string, string> {
  const result = new Map<string, string>();
  let current: string | undefined;
  let buffer: string[] = [];
  const flush = () => {
    if (current !== undefined) result.set(current, buffer.join('\n').replace(/\n+$/, ''));
  };
  for (const line of stdout.split('\n')) {
    if (line.startsWith(MARKER + ' ')) {
      flush();
      current = line.slice(MARKER.length + 1).trim();
      buffer = [];
    } else if (current !== undefined) {
      buffer.push(line);
    }
  }
  flush();
  return result;
}

/** A file's exact text (see DUMP_FILE); the section is empty when the file is absent or unreadable. */
export function fileSection(name: string, path: string): ProbeSection {
  return { name, script: sh`dump_file ${path}` };
}

/** The file a fileSection read; undefined when it was absent or empty. */
export function decodeFileSection(sections: Map<string, string>, name: string): string | undefined {
  const value = sections.get(name);
  if (value === undefined || value === '') return undefined;
  let text = '';
  for (const line of value.split('\n')) {
    if (line.startsWith('|')) text += `${line.slice(1)}\n`;
    else if (line.startsWith('~')) text += line.slice(1);
  }
  return text === '' ? undefined : text;
}
