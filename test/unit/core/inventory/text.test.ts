import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { InventoryError, type InventoryIssue } from '../../../../core/errors.js';
import { loadInventory, parseInventory } from '../../../../core/inventory/parse.js';
import { decodeInventory, falseSpaceIssues, quotedScalars } from '../../../../core/inventory/text.js';
import { tempDir } from '../../../fakes/temp-dir.js';

const INVENTORY =
  [
    'cluster:', //                            1
    '  name: lab', //                         2
    'nodes:', //                              3
    '  - name: pi-1', //                      4
    '    host: 192.168.1.101', //             5
    '    role: server', //                    6
    '  - name: pi-2', //                      7
    '    host: 192.168.1.102', //             8
    '    role: agent', //                     9
    'workloads: {revue: false, monitoring: false}', // 10
  ].join('\n') + '\n';

function issuesOf(text: string): InventoryIssue[] {
  try {
    parseInventory(text, 'inventory.yaml', { homeDir: '/home/op' });
  } catch (e) {
    if (e instanceof InventoryError) return e.issues;
    throw e;
  }
  return [];
}

const dir = tempDir('text');

function loadIssues(bytes: Uint8Array): InventoryIssue[] {
  const file = join(dir, 'inventory.yaml');
  writeFileSync(file, bytes);
  try {
    loadInventory(file);
  } catch (e) {
    if (e instanceof InventoryError) return e.issues;
    throw e;
  }
  return [];
}

describe('files that are not UTF-8 text are named as what they are', () => {
  it('the inventory as it is loads, also with a UTF-8 byte order mark', () => {
    expect(loadIssues(Buffer.from(INVENTORY))).toEqual([]);
    expect(loadIssues(Buffer.from(`\ufeff${INVENTORY}`))).toEqual([]);
  });

  it.each<[string, Uint8Array, RegExp]>([
    ['gzip', gzipSync(INVENTORY), /^is gzip-compressed, not a text file — decompress it \(gunzip\)/],
    ['zip', Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), Buffer.from(INVENTORY)]), /^is a zip archive/],
    ['UTF-16 LE with a BOM', Buffer.from(`\ufeff${INVENTORY}`, 'utf16le'), /^is UTF-16 \(little-endian\) text; revue-pi reads UTF-8 — save it as UTF-8/],
    ['UTF-16 BE with a BOM', Buffer.from(`\ufeff${INVENTORY}`, 'utf16le').swap16(), /^is UTF-16 \(big-endian\) text/],
    ['UTF-16 without a BOM', Buffer.from(INVENTORY, 'utf16le'), /^looks like UTF-16 text without a byte order mark/],
  ])('%s', (_what, bytes, message) => {
    const issues = loadIssues(bytes);
    expect(issues).toHaveLength(1);
    expect(issues[0]!.message).toMatch(message);
  });

  it('Latin-1 text: the first byte that is not UTF-8, at its line and column, and what it is in Latin-1', () => {
    const latin1 = Buffer.from(INVENTORY.replace('  name: lab', '  name: lab\n  domain: café.lan'), 'latin1');
    expect(loadIssues(latin1)).toEqual([
      {
        path: '',
        line: 3,
        column: 14,
        severity: 'error',
        message:
          'is not UTF-8: byte 0xE9 here is not valid UTF-8 (in Latin-1 or Windows-1252 that byte is "é") — save the file as UTF-8, or run iconv -f WINDOWS-1252 -t UTF-8',
      },
    ]);
  });

  it('a binary file with NUL bytes later on', () => {
    const bytes = Buffer.concat([Buffer.from(INVENTORY), Buffer.from([0, 1, 2])]);
    expect(decodeInventory(bytes)).toEqual({ issue: expect.objectContaining({ line: 11, column: 1, message: expect.stringMatching(/NUL bytes/) }) });
  });
});

describe('spaces that are not spaces', () => {
  it('a no-break space after a colon: named at its place, not as "cluster must be a mapping"', () => {
    expect(issuesOf(INVENTORY.replace('  name: lab', '  name:\u00a0lab'))).toEqual([
      {
        path: '',
        line: 2,
        column: 8,
        severity: 'error',
        message:
          'U+00A0 (a no-break space) here, which YAML does not read as a space — replace it with a plain space (it is often pasted from a web page or a chat)',
      },
    ]);
  });

  it('no-break spaces as indentation, a zero-width space, an ideographic space: one issue per line', () => {
    const text = INVENTORY.replace('    role: server', '\u00a0\u00a0  role: server')
      .replace('    role: agent', '    role:\u200b agent')
      .replace('  - name: pi-2', '  - name:\u3000pi-2');
    expect(issuesOf(text).map((i) => [i.line, i.column, i.message.split(' here')[0]])).toEqual([
      [6, 1, 'U+00A0 (a no-break space)'],
      [7, 10, 'U+3000 (an ideographic space)'],
      [9, 10, 'U+200B (a zero-width space)'],
    ]);
  });

  it("in a comment or inside quotes it is not reported here (inside quotes the value's own check names it)", () => {
    expect(falseSpaceIssues('# a\u00a0comment\ncluster: {name: lab} # and\u00a0here\n')).toEqual([]);
    expect(falseSpaceIssues('cluster:\n  domain: "lab\u00a0lan"\n')).toEqual([]);
    expect(issuesOf(INVENTORY.replace('  name: lab', '  name: lab\n  domain: "lab\u00a0lan"'))).toEqual([
      expect.objectContaining({ path: 'cluster.domain', line: 3, message: expect.stringContaining('U+00A0 (a no-break space)') }),
    ]);
  });
});

describe('a quote opened and never closed is reported where it opens', () => {
  it.each<[string, string, number, number, string]>([
    ['double, at the end of the file', INVENTORY.replace('    host: 192.168.1.102', '    host: "192.168.1.102'), 8, 11, 'double'],
    ['single, at the end of the file', INVENTORY.replace('    host: 192.168.1.101', "    host: '192.168.1.101"), 5, 11, 'single'],
    [
      'double, swallowing lines up to a later quote',
      INVENTORY.replace('  name: lab', '  name: "lab').replace('    host: 192.168.1.102', '    host: "192.168.1.102"'),
      2,
      9,
      'double',
    ],
    [
      'in a flow list',
      INVENTORY.replace(
        'workloads: {revue: false, monitoring: false}',
        'workloads: {revue: false, monitoring: false}\nnetwork: {addresses: {kafka: [192.168.1.202, "192.168.1.203]}}',
      ),
      11,
      46,
      'double',
    ],
  ])('%s', (_what, text, line, column, kind) => {
    expect(issuesOf(text)).toEqual([
      {
        path: '',
        line,
        column,
        severity: 'error',
        message: `YAML syntax error: the ${kind} quote opened here is never closed on its line — close it where the value ends, e.g. host: ${kind === 'double' ? '"' : "'"}192.168.1.101${kind === 'double' ? '"' : "'"}`,
      },
    ]);
  });

  it('finds quoted values the way YAML opens them: not inside words, comments or the other quote', () => {
    const text = `a: it's\nb: "x \\" y" # it's\nc: 'it''s'\nd: ["q", 'r']\n`;
    expect(quotedScalars(text).map((q) => text.slice(q.start, (q.end ?? text.length) + 1))).toEqual(['"x \\" y"', "'it''s'", '"q"', "'r'"]);
  });
});
