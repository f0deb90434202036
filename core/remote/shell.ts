/**
 * The one way to build a POSIX sh script (dash on Raspberry Pi OS): the `sh` tagged template.
 *
 *   sh`hostnamectl set-hostname ${name}`          a string becomes one quoted word: 'it'\''s'
 *   sh`stat -c %s ${paths}`                       an array becomes one quoted word per item
 *   sh`timeout -k 5 ${seconds} …`                 a number becomes its digits
 *   sh`${otherScript} || exit $?`                 a ShellScript goes in as it is (it was built here)
 *
 * The transport runs only ShellScripts, and only this module makes them, so a value can reach a node's shell only
 * through this quoting. The template's own text is the script; a value interpolated inside quotes the template opened
 * (`"$x${value}"`) cannot be quoted there, so that is refused unless it is a number or a word that needs no quoting
 * (letters, digits and `_@%+=:,./-`). `rawShell` is the one
 * deliberate way around the quoting, for script text that comes from a file of the project (tests, lab scripts).
 */

const MADE_HERE = Symbol('ShellScript');

/** A script (or a piece of one) whose every interpolated value was quoted by `sh`. */
export class ShellScript {
  readonly text: string;

  constructor(text: string, token: symbol) {
    if (token !== MADE_HERE) throw new TypeError('a ShellScript is made by sh`…` (core/remote/shell.ts) only');
    this.text = text;
  }

  toString(): string {
    return this.text;
  }
}

export type ShellValue = string | number | ShellScript | readonly (string | number)[];

/** Characters a word may hold without quotes in sh (no globbing, expansion, splitting or redirection). */
const BARE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** POSIX single quoting: `it's` → `'it'\''s'`. Plain safe words stay bare. Use through `sh`. */
export function shQuote(value: string): string {
  if (BARE_WORD.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

function quoteValue(value: ShellValue, insideQuotes: boolean, index: number): string {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`sh\`…\`: value ${index} is not a finite number (${value})`);
    return String(value);
  }
  if (insideQuotes) {
    // Inside quotes the template opened, a bare word is itself (it holds no quote, $, ` or \); anything else is a mistake.
    if (typeof value === 'string' && BARE_WORD.test(value)) return value;
    throw new TypeError(`sh\`…\`: value ${index} is interpolated inside quotes of the template; put it outside them (sh quotes it)`);
  }
  if (value instanceof ShellScript) return value.text;
  if (typeof value === 'string') return shQuote(value);
  if (Array.isArray(value)) return value.map((v) => (typeof v === 'number' ? quoteValue(v, false, index) : shQuote(v))).join(' ');
  throw new TypeError(`sh\`…\`: value ${index} is neither text, a number, a list nor a ShellScript`);
}

/**
 * Where the shell's reading stands at the end of a piece of the template: a stack of open single quotes, double
 * quotes, command substitutions (`"$(…)"` quotes afresh inside) and comments (to the end of the line). Backslash
 * escapes count outside single quotes. Here-document bodies in the template's text are not told apart (keep
 * values out of them; `shHeredoc` writes one whose body is data).
 */
type Frame = { kind: 'single' | 'double' | 'comment' } | { kind: 'command'; parens: number };

/** Characters after which a `#` starts a comment rather than being part of a word. */
const BEFORE_COMMENT = /[\s;&|()]/;

function readQuotes(text: string, stack: Frame[], before: string): Frame[] {
  const frames = stack.map((f) => ({ ...f }));
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    const top = frames[frames.length - 1];
    if (top?.kind === 'comment') {
      if (ch === '\n') frames.pop();
    } else if (top?.kind === 'single') {
      if (ch === "'") frames.pop();
    } else if (ch === '\\') {
      i++;
    } else if (ch === '$' && text[i + 1] === '(' && text[i + 2] !== '(') {
      frames.push({ kind: 'command', parens: 1 });
      i++;
    } else if (top?.kind === 'double') {
      if (ch === '"') frames.pop();
    } else if (ch === "'") {
      frames.push({ kind: 'single' });
    } else if (ch === '"') {
      frames.push({ kind: 'double' });
    } else if (ch === '#' && (i === 0 ? before === '' || BEFORE_COMMENT.test(before) : BEFORE_COMMENT.test(text[i - 1] as string))) {
      frames.push({ kind: 'comment' });
    } else if (top?.kind === 'command' && ch === '(') {
      top.parens++;
    } else if (top?.kind === 'command' && ch === ')') {
      if (--top.parens === 0) frames.pop();
    }
  }
  return frames;
}

/** Inside quotes or a comment a value cannot be quoted (in a comment, a line break in it would end the comment). */
const insideQuotes = (frames: Frame[]): boolean => {
  const top = frames[frames.length - 1];
  return top !== undefined && top.kind !== 'command';
};

/** The POSIX sh tagged template: see the module comment. */
export function sh(strings: TemplateStringsArray, ...values: ShellValue[]): ShellScript {
  let text = strings[0] ?? '';
  let frames = readQuotes(text, [], '');
  values.forEach((value, i) => {
    text += quoteValue(value, insideQuotes(frames), i);
    const literal = strings[i + 1] ?? '';
    frames = readQuotes(literal, frames, text.slice(-1));
    text += literal;
  });
  return new ShellScript(text, MADE_HERE);
}

/**
 * `<<'END'` and a here-document whose body is data, taken as it is (the quoted delimiter turns expansion off): the
 * body may hold any text but a line equal to the delimiter, which is refused. Put it last on its command's line.
 */
export function shHeredoc(body: string, delimiter = 'EOF'): ShellScript {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(delimiter)) throw new TypeError(`"${delimiter}" is not a here-document delimiter`);
  const lines = body.endsWith('\n') ? body.slice(0, -1).split('\n') : body.split('\n');
  if (lines.includes(delimiter)) throw new TypeError(`a here-document body cannot hold a line "${delimiter}" (its delimiter)`);
  return new ShellScript(`<<'${delimiter}'\n${lines.join('\n')}\n${delimiter}`, MADE_HERE);
}

/** What may stand between the scripts `joinShell` joins. */
export type ShellSeparator = '\n' | ' ' | '' | '; ' | ' &&\n' | ' && ';

/** Scripts one after the other, with a fixed separator (a newline by default). */
export function joinShell(parts: readonly ShellScript[], separator: ShellSeparator = '\n'): ShellScript {
  return new ShellScript(parts.map((p) => p.text).join(separator), MADE_HERE);
}

/** `NAME=value` for an environment assignment before a command: the name is checked, the value quoted. */
export function shAssign(name: string, value: string): ShellScript {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new TypeError(`"${name}" is not a shell variable name`);
  return new ShellScript(`${name}=${shQuote(value)}`, MADE_HERE);
}

/** A comment line, `# text`: refused when the text holds a line break (the rest would be read as commands). */
export function shComment(text: string): ShellScript {
  if (/[\r\n]/.test(text)) throw new TypeError(`a comment is one line: ${JSON.stringify(text)}`);
  return new ShellScript(`# ${text}`, MADE_HERE);
}

/**
 * Script text taken as it is, unquoted: only for whole scripts that are files of the project (the lab's stand-ins,
 * tests). Never for anything holding a value from the inventory, a node or the user; a test keeps it out of
 * provision/, cluster/ and workloads/.
 */
export function rawShell(text: string): ShellScript {
  return new ShellScript(text, MADE_HERE);
}
