/**
 * The one way to render a systemd unit file: sections of `Key=value` lines, every value escaped per systemd.syntax(7)
 * and, for command lines, systemd.service(5) "Command lines". A value from the inventory can then never add a line,
 * a setting or a command to a unit that runs as root at every boot.
 *
 * - A value is one line: a line break would start a new setting, so control characters are refused.
 * - `%` starts a specifier (systemd.unit(5) "Specifiers") in most settings: written `%%`.
 * - A trailing backslash would join the next line (systemd.syntax(7)): refused.
 * - Command lines: the executable is an absolute path; each argument that is not a plain word is double-quoted with
 *   `\\` and `"` escaped, `$` written `$$` (no environment substitution) and `%` `%%`; so `;` or spaces in a value are
 *   part of one argument, never a second command (a lone `;` is written `\;`).
 */

export type UnitValue = string | { exec: readonly string[] };

export interface UnitSection {
  name: 'Unit' | 'Service' | 'Install' | 'Timer' | 'Socket';
  entries: readonly (readonly [key: string, value: UnitValue])[];
}

export interface SystemdUnit {
  /** Comment lines at the top (each written behind `# `). */
  comments?: readonly string[];
  sections: readonly UnitSection[];
}

const CONTROL = /[\u0000-\u001f\u007f]/;
const KEY = /^[A-Za-z][A-Za-z0-9]*$/;
/** An argument that systemd reads as itself without quotes: no quote, backslash, `$`, `%`, `;`, space or control. */
const PLAIN_ARGUMENT = /^[A-Za-z0-9_@+=:,./-]+$/;

/** A plain setting's value: `%` doubled; refused when it holds a control character or ends in a backslash. */
export function unitValue(value: string): string {
  if (CONTROL.test(value)) throw new TypeError(`a systemd unit value cannot hold control characters or line breaks: ${JSON.stringify(value)}`);
  if (value.endsWith('\\'))
    throw new TypeError(`a systemd unit value cannot end in a backslash (it would continue on the next line): ${JSON.stringify(value)}`);
  if (value !== value.trimStart()) throw new TypeError(`a systemd unit value cannot start with white space: ${JSON.stringify(value)}`);
  return value.replace(/%/g, '%%');
}

/** One argument of a command line (systemd.service(5) "Command lines"). */
export function execArgument(arg: string): string {
  if (CONTROL.test(arg)) throw new TypeError(`a systemd command-line argument cannot hold control characters or line breaks: ${JSON.stringify(arg)}`);
  if (arg !== '' && PLAIN_ARGUMENT.test(arg)) return arg;
  // A lone `;` separates two commands, quoted or not; systemd.service(5) escapes it as `\;`.
  if (arg === ';') return '\\;';
  return `"${arg.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\$/g, '$$$$').replace(/%/g, '%%')}"`;
}

/** `ExecStart=` and the like: an absolute executable and its arguments, each escaped. */
export function execLine(argv: readonly string[]): string {
  const [executable, ...args] = argv;
  if (executable === undefined || !/^\/[A-Za-z0-9_./-]+$/.test(executable)) {
    throw new TypeError(`a systemd command line starts with an absolute path to the program (got ${JSON.stringify(executable)})`);
  }
  return [executable, ...args.map(execArgument)].join(' ');
}

export function renderSystemdUnit(unit: SystemdUnit): string {
  const lines: string[] = [];
  for (const comment of unit.comments ?? []) {
    if (CONTROL.test(comment)) throw new TypeError(`a systemd unit comment is one line: ${JSON.stringify(comment)}`);
    lines.push(`# ${comment}`.trimEnd());
  }
  unit.sections.forEach((section, i) => {
    if (i > 0) lines.push('');
    lines.push(`[${section.name}]`);
    for (const [key, value] of section.entries) {
      if (!KEY.test(key)) throw new TypeError(`"${key}" is not a systemd setting name`);
      lines.push(`${key}=${typeof value === 'string' ? unitValue(value) : execLine(value.exec)}`);
    }
  });
  return `${lines.join('\n')}\n`;
}
