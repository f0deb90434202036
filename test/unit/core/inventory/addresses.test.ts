import { describe, expect, it } from 'vitest';
import {
  addressBlockProblem,
  blockContains,
  blockSize,
  blocksOverlap,
  formatAddressBlock,
  formatIPv4,
  parseAddressBlock,
  parseIPv4,
} from '../../../../core/inventory/addresses.js';

describe('parseIPv4 / formatIPv4', () => {
  it.each<[string, number]>([
    ['0.0.0.0', 0],
    ['0.0.0.1', 1],
    ['0.0.1.0', 256],
    ['10.0.0.1', 167772161],
    ['192.168.1.10', 3232235786],
    ['255.255.255.255', 4294967295],
  ])('%s ⇄ %d', (text, value) => {
    expect(parseIPv4(text)).toBe(value);
    expect(formatIPv4(value)).toBe(text);
  });

  it.each([
    '',
    '1.2.3',
    '1.2.3.4.5',
    '256.1.1.1',
    '1.2.3.-4',
    '192.168.01.1',
    '1.2.3.4 ',
    ' 1.2.3.4',
    'a.b.c.d',
    '::1',
    'pi-1.lan',
    '1..2.3',
    '0x7f.0.0.1',
    '1e2.0.0.1',
  ])('is not an IPv4 literal: %j', (text) => {
    expect(parseIPv4(text)).toBeUndefined();
  });

  it.each([-1, 4294967296, 1.5, Number.NaN])('formatIPv4 refuses %d', (n) => {
    expect(() => formatIPv4(n)).toThrow(RangeError);
  });
});

describe('parseAddressBlock', () => {
  it.each<[string, string, string, number]>([
    ['192.168.1.200-192.168.1.220', '192.168.1.200', '192.168.1.220', 21],
    ['192.168.1.200 - 192.168.1.220', '192.168.1.200', '192.168.1.220', 21],
    ['192.168.1.200-192.168.1.200', '192.168.1.200', '192.168.1.200', 1],
    ['192.168.1.240/28', '192.168.1.240', '192.168.1.255', 16],
    ['192.168.1.7/32', '192.168.1.7', '192.168.1.7', 1],
    ['10.0.0.0/8', '10.0.0.0', '10.255.255.255', 16777216],
    ['0.0.0.0/0', '0.0.0.0', '255.255.255.255', 4294967296],
    ['192.168.0.255-192.168.1.3', '192.168.0.255', '192.168.1.3', 5],
  ])('%s → %s … %s (%d addresses)', (text, first, last, size) => {
    const block = parseAddressBlock(text);
    expect(block).toEqual({ first: parseIPv4(first), last: parseIPv4(last) });
    expect(blockSize(block!)).toBe(size);
    expect(addressBlockProblem(text)).toBeUndefined();
  });

  it.each<[string, string]>([
    ['192.168.1.220-192.168.1.200', '"192.168.1.220-192.168.1.200" starts after it ends — write the lower address first: 192.168.1.200-192.168.1.220'],
    ['192.168.1.241/28', '"192.168.1.241/28" has host bits set — did you mean 192.168.1.240/28?'],
    ['192.168.1.240/33', '"192.168.1.240/33" has an invalid prefix length — use /0 to /32, e.g. 192.168.1.240/28'],
    ['192.168.1.240/', '"192.168.1.240/" has an invalid prefix length — use /0 to /32, e.g. 192.168.1.240/28'],
    ['192.168.1.240/028', '"192.168.1.240/028" has an invalid prefix length — use /0 to /32, e.g. 192.168.1.240/28'],
    ['192.168.1/24', '"192.168.1/24" is not an IPv4 CIDR — write it like 192.168.1.240/28'],
    ['192.168.1.0/24/8', '"192.168.1.0/24/8" is not an IPv4 CIDR — write it like 192.168.1.240/28'],
    ['192.168.1.200-192.168.1.300', '"192.168.1.200-192.168.1.300" is not an IPv4 range — write it like 192.168.1.200-192.168.1.220'],
    ['192.168.1.200-220', '"192.168.1.200-220" is not an IPv4 range — write it like 192.168.1.200-192.168.1.220'],
    ['1.1.1.1-2.2.2.2-3.3.3.3', '"1.1.1.1-2.2.2.2-3.3.3.3" is not an IPv4 range — write it like 192.168.1.200-192.168.1.220'],
    ['192.168.1.200', '"192.168.1.200" is a single address; MetalLB takes CIDRs or ranges — write 192.168.1.200/32'],
    ['lan', '"lan" is neither a CIDR (192.168.1.240/28) nor a range (192.168.1.200-192.168.1.220)'],
    ['fd00::/64', '"fd00::/64" is not an IPv4 CIDR — write it like 192.168.1.240/28'],
  ])('refuses %j', (text, problem) => {
    expect(parseAddressBlock(text)).toBeUndefined();
    expect(addressBlockProblem(text)).toBe(problem);
  });
});

describe('block relations', () => {
  const block = (text: string) => parseAddressBlock(text)!;

  it.each<[string, string, boolean]>([
    ['192.168.1.200-192.168.1.220', '192.168.1.220-192.168.1.230', true], // share one address at the edge
    ['192.168.1.200-192.168.1.220', '192.168.1.221-192.168.1.230', false], // adjacent
    ['192.168.1.200-192.168.1.220', '192.168.1.208/29', true], // CIDR inside a range
    ['192.168.1.240/28', '192.168.1.0/24', true], // one holds the other
    ['192.168.1.240/28', '192.168.2.240/28', false],
    ['10.0.0.0/8', '192.168.1.0/24', false],
  ])('%s and %s overlap: %s', (a, b, overlap) => {
    expect(blocksOverlap(block(a), block(b))).toBe(overlap);
    expect(blocksOverlap(block(b), block(a))).toBe(overlap);
  });

  it('blockContains takes an address or a block', () => {
    const pool = block('192.168.1.200-192.168.1.220');
    expect(blockContains(pool, parseIPv4('192.168.1.200')!)).toBe(true);
    expect(blockContains(pool, parseIPv4('192.168.1.220')!)).toBe(true);
    expect(blockContains(pool, parseIPv4('192.168.1.199')!)).toBe(false);
    expect(blockContains(pool, parseIPv4('192.168.1.221')!)).toBe(false);
    expect(blockContains(pool, block('192.168.1.208/29'))).toBe(true);
    expect(blockContains(pool, block('192.168.1.216/29'))).toBe(false); // .216-.223 runs past .220
    expect(blockContains(block('192.168.1.208/29'), pool)).toBe(false);
  });

  it('formatAddressBlock writes the range form MetalLB accepts', () => {
    expect(formatAddressBlock(block('192.168.1.240/28'))).toBe('192.168.1.240-192.168.1.255');
    expect(formatAddressBlock(block('192.168.1.200 - 192.168.1.220'))).toBe('192.168.1.200-192.168.1.220');
    expect(formatAddressBlock(block('192.168.1.9/32'))).toBe('192.168.1.9/32');
    expect(formatAddressBlock(block('192.168.1.9-192.168.1.9'))).toBe('192.168.1.9/32');
  });
});
