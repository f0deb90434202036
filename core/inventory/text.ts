import type { InventoryIssue } from '../errors.js';
import { describeOddCharacter } from './syntax.js';

/**
 * What can be wrong with an inventory file before YAML reads it, said plainly: not text at all (gzip, zip…), text in
 * another encoding (UTF-16, Latin-1), spaces that are not spaces (a no-break space pasted from a web page), and, once
 * YAML has failed, a quote that is opened and never closed — reported where it opens, not where the file ends.
 */

/** Binary formats an inventory is sometimes mistaken for, by their first bytes. */
const MAGIC: { bytes: number[]; what: string; fix: string }[] = [
  { bytes: [0x1f, 0x8b], what: 'gzip-compressed', fix: 'decompress it (gunzip) and pass the .yaml inside' },
  { bytes: [0x50, 0x4b, 0x03, 0x04], what: 'a zip archive', fix: 'unzip it and pass the .yaml inside' },
  { bytes: [0x42, 0x5a, 0x68], what: 'bzip2-compressed', fix: 'decompress it (bunzip2) and pass the .yaml inside' },
  { bytes: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], what: 'xz-compressed', fix: 'decompress it (unxz) and pass the .yaml inside' },
  { bytes: [0x28, 0xb5, 0x2f, 0xfd], what: 'zstd-compressed', fix: 'decompress it (unzstd) and pass the .yaml inside' },
  { bytes: [0x25, 0x50, 0x44, 0x46], what: 'a PDF document', fix: 'pass the YAML inventory itself' },
];

const BOMS: { bytes: number[]; what: string }[] = [
  { bytes: [0xff, 0xfe, 0x00, 0x00], what: 'UTF-32 (little-endian)' },
  { bytes: [0x00, 0x00, 0xfe, 0xff], what: 'UTF-32 (big-endian)' },
  { bytes: [0xff, 0xfe], what: 'UTF-16 (little-endian)' },
  { bytes: [0xfe, 0xff], what: 'UTF-16 (big-endian)' },
];

const startsWith = (buffer: Uint8Array, bytes: number[]) => bytes.every((b, i) => buffer[i] === b);

/** One issue for the whole file, at a position when there is one. */
const fileIssue = (message: string, position?: { line: number; column: number }): InventoryIssue => ({
  path: '',
  ...(position ?? {}),
  message,
  severity: 'error',
});

/** Where `offset` (a byte offset of text that decoded up to it) is, as line:column. */
function positionOfByte(buffer: Uint8Array, offset: number): { line: number; column: number } {
  const before = new TextDecoder('utf-8').decode(buffer.subarray(0, offset));
  const lines = before.split('\n');
  return { line: lines.length, column: [...(lines[lines.length - 1] as string)].length + 1 };
}

/**
 * The inventory file's bytes as text, or the issue that says why they are not UTF-8 text. A UTF-8 byte order mark
 * is fine (parseInventory drops it).
 */
export function decodeInventory(buffer: Uint8Array): { text: string } | { issue: InventoryIssue } {
  for (const m of MAGIC) {
    if (startsWith(buffer, m.bytes)) return { issue: fileIssue(`is ${m.what}, not a text file — ${m.fix}`) };
  }
  for (const b of BOMS) {
    if (startsWith(buffer, b.bytes)) {
      return {
        issue: fileIssue(
          `is ${b.what} text; revue-pi reads UTF-8 — save it as UTF-8 (most editors offer the encoding under "Save as"), or run iconv -f ${b.what.startsWith('UTF-16') ? 'UTF-16' : 'UTF-32'} -t UTF-8`,
        ),
      };
    }
  }
  const nul = buffer.indexOf(0);
  if (nul >= 0) {
    // ASCII written as UTF-16 has a NUL beside every character.
    const sample = buffer.subarray(0, Math.min(buffer.length, 200));
    const nuls = sample.filter((b) => b === 0).length;
    if (nuls * 3 >= sample.length) return { issue: fileIssue('looks like UTF-16 text without a byte order mark; revue-pi reads UTF-8 — save it as UTF-8') };
    return { issue: fileIssue('holds NUL bytes, so it is no text file — pass the YAML inventory', positionOfByte(buffer, nul)) };
  }
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(buffer) };
  } catch {
    const at = firstInvalidUtf8(buffer);
    const byte = buffer[at] as number;
    const latin1 = Buffer.from([byte]).toString('latin1');
    const guess = byte >= 0xa0 ? ` (in Latin-1 or Windows-1252 that byte is "${latin1}")` : '';
    return {
      issue: fileIssue(
        `is not UTF-8: byte 0x${byte.toString(16).toUpperCase().padStart(2, '0')} here is not valid UTF-8${guess} — save the file as UTF-8, or run iconv -f WINDOWS-1252 -t UTF-8`,
        positionOfByte(buffer, at),
      ),
    };
  }
}

/** The offset of the first byte that does not start or continue a valid UTF-8 sequence. */
function firstInvalidUtf8(buffer: Uint8Array): number {
  let i = 0;
  while (i < buffer.length) {
    const b = buffer[i] as number;
    const length = b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    if (length === 0) return i;
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(buffer.subarray(i, i + length));
    } catch {
      return i;
    }
    i += length;
  }
  return buffer.length - 1;
}

/** Characters that look like a space (or nothing) but are not one to YAML. */
const FALSE_SPACE = /[\u00a0\u1680\u2000-\u200b\u202f\u205f\u3000\ufeff]/g;

/**
 * Spaces that are not spaces, outside comments and quoted values: YAML reads `name:\u00a0lab` as one word and an
 * indentation of no-break spaces as part of a key, so the error it gives (if any) points elsewhere. (Inside quotes
 * the character is part of the value, whose own check names it.) One issue per line.
 */
export function falseSpaceIssues(text: string): InventoryIssue[] {
  const issues: InventoryIssue[] = [];
  const quoted = quotedScalars(text).filter((q) => q.end !== undefined);
  let lineStart = 0;
  text.split('\n').forEach((line, i) => {
    const comment = commentStart(line);
    FALSE_SPACE.lastIndex = 0;
    let match: RegExpExecArray | null;
    while ((match = FALSE_SPACE.exec(line)) !== null) {
      if (comment >= 0 && match.index > comment) break;
      const at = lineStart + match.index;
      if (quoted.some((q) => q.start < at && at < (q.end as number))) continue;
      const what = describeOddCharacter(match[0]) ?? match[0];
      issues.push(
        fileIssue(`${what} here, which YAML does not read as a space — replace it with a plain space (it is often pasted from a web page or a chat)`, {
          line: i + 1,
          column: [...line.slice(0, match.index)].length + 1,
        }),
      );
      break;
    }
    lineStart += line.length + 1;
  });
  return issues;
}

/** Where a comment starts on a line (a `#` at the start or after white space, outside quotes), or -1. */
function commentStart(line: string): number {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quote === '"' && ch === '\\') i++;
    else if (quote !== undefined) {
      if (ch === quote) quote = undefined;
    } else if (ch === '#' && (i === 0 || /\s/.test(line[i - 1] as string))) return i;
    else if ((ch === '"' || ch === "'") && (i === 0 || /[\s:\-[{,]/.test(line[i - 1] as string))) quote = ch;
  }
  return -1;
}

/**
 * Quoted scalars as YAML opens them (a quote at the start of a value: after indentation, `- `, `: `, `[`, `{` or `,`),
 * with where each opens and closes (undefined: never closed). Comments are skipped; a double quote is escaped by a
 * backslash, a single quote by doubling it.
 */
export function quotedScalars(text: string): { quote: '"' | "'"; start: number; end?: number }[] {
  const spans: { quote: '"' | "'"; start: number; end?: number }[] = [];
  let i = 0;
  let lineStart = true;
  let prev = '\n';
  while (i < text.length) {
    const ch = text[i] as string;
    if (ch === '#' && /\s/.test(prev)) {
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    const atValueStart = lineStart || /[[{,]/.test(prev) || (/\s/.test(prev) && /[:\-[{,]/.test(lastNonBlankBefore(text, i)));
    if ((ch === '"' || ch === "'") && atValueStart) {
      const start = i;
      i++;
      let end: number | undefined;
      while (i < text.length) {
        const c = text[i];
        if (ch === '"' && c === '\\') i += 2;
        else if (ch === "'" && c === "'" && text[i + 1] === "'") i += 2;
        else if (c === ch) {
          end = i;
          i++;
          break;
        } else i++;
      }
      spans.push({ quote: ch, start, ...(end !== undefined ? { end } : {}) });
      prev = ch;
      lineStart = false;
      continue;
    }
    if (ch === '\n') lineStart = true;
    else if (ch !== ' ' && ch !== '\t' && !(lineStart && ch === '-')) lineStart = false;
    prev = ch;
    i++;
  }
  return spans;
}

/** The last character before `i` that is not a space or tab ('' at the start). */
function lastNonBlankBefore(text: string, i: number): string {
  let j = i - 1;
  while (j >= 0 && (text[j] === ' ' || text[j] === '\t')) j--;
  return j < 0 ? '' : (text[j] as string);
}

/**
 * After YAML failed at `offset`: the quote that caused it, when a quoted value opened on an earlier line is never
 * closed, or runs on past its line up to where YAML gave up. Its offset, or undefined.
 */
export function unclosedQuoteBefore(text: string, offset: number): { quote: '"' | "'"; start: number } | undefined {
  const spans = quotedScalars(text);
  const unclosed = spans.find((s) => s.end === undefined);
  if (unclosed) return unclosed;
  const lineOf = (at: number) => text.slice(0, at).split('\n').length;
  return spans.find((s) => s.end !== undefined && s.start < offset && lineOf(s.end) > lineOf(s.start) && lineOf(s.start) < lineOf(offset));
}
