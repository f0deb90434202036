/**
 * IPv4 arithmetic for the inventory's address pools and fixed addresses. Pure: addresses are
 * unsigned 32-bit numbers, blocks are inclusive {first, last} ranges. MetalLB pool rendering and
 * the init wizard's range suggestion reuse these.
 */

/** An inclusive range of IPv4 addresses, as numbers (0 … 2^32-1). */
export interface AddressBlock {
  first: number;
  last: number;
}

const OCTET = /^(0|[1-9][0-9]{0,2})$/;

/**
 * `192.168.1.10` → 3232235786. Undefined for anything that is not a dotted-quad IPv4 literal
 * (hostnames, IPv6, octets over 255, leading zeros such as `192.168.01.1`, which some tools read as octal).
 */
export function parseIPv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!OCTET.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = value * 256 + octet;
  }
  return value;
}

/** 3232235786 → `192.168.1.10`. */
export function formatIPv4(value: number): string {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new RangeError(`${value} is not an IPv4 address (an integer from 0 to 4294967295)`);
  }
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.');
}

/**
 * Why `text` is not a valid pool entry, or undefined when it is one. Accepts a CIDR
 * (`192.168.1.240/28`, no host bits set) or a range (`192.168.1.200-192.168.1.220`, start <= end).
 */
export function addressBlockProblem(text: string): string | undefined {
  const trimmed = text.trim();
  if (trimmed.includes('/')) {
    const [base = '', prefixText = '', ...rest] = trimmed.split('/');
    const ip = parseIPv4(base);
    if (ip === undefined || rest.length > 0) {
      return `${JSON.stringify(text)} is not an IPv4 CIDR — write it like 192.168.1.240/28`;
    }
    if (!/^(0|[1-9][0-9]?)$/.test(prefixText) || Number(prefixText) > 32) {
      return `${JSON.stringify(text)} has an invalid prefix length — use /0 to /32, e.g. 192.168.1.240/28`;
    }
    const prefix = Number(prefixText);
    const network = networkOf(ip, prefix);
    if (network !== ip) {
      return `${JSON.stringify(text)} has host bits set — did you mean ${formatIPv4(network)}/${prefix}?`;
    }
    return undefined;
  }
  if (/^[0-9.]+\s*-\s*[0-9.]+/.test(trimmed)) {
    const [startText = '', endText = '', ...rest] = trimmed.split('-').map((s) => s.trim());
    const start = parseIPv4(startText);
    const end = parseIPv4(endText);
    if (start === undefined || end === undefined || rest.length > 0) {
      return `${JSON.stringify(text)} is not an IPv4 range — write it like 192.168.1.200-192.168.1.220`;
    }
    if (start > end) {
      return `${JSON.stringify(text)} starts after it ends — write the lower address first: ${endText}-${startText}`;
    }
    return undefined;
  }
  if (parseIPv4(trimmed) !== undefined) {
    return `${JSON.stringify(text)} is a single address; MetalLB takes CIDRs or ranges — write ${trimmed}/32`;
  }
  return `${JSON.stringify(text)} is neither a CIDR (192.168.1.240/28) nor a range (192.168.1.200-192.168.1.220)`;
}

/**
 * A CIDR (`192.168.1.240/28`) or a range (`192.168.1.200-192.168.1.220`) — the two forms MetalLB's
 * IPAddressPool accepts — → {first, last}. Undefined when invalid; `addressBlockProblem` says why.
 */
export function parseAddressBlock(text: string): AddressBlock | undefined {
  if (addressBlockProblem(text) !== undefined) return undefined;
  const trimmed = text.trim();
  if (trimmed.includes('/')) {
    const [base = '', prefixText = ''] = trimmed.split('/');
    const first = parseIPv4(base) as number;
    const prefix = Number(prefixText);
    return { first, last: first + 2 ** (32 - prefix) - 1 };
  }
  const [startText = '', endText = ''] = trimmed.split('-').map((s) => s.trim());
  return { first: parseIPv4(startText) as number, last: parseIPv4(endText) as number };
}

/** True when the two blocks share at least one address. */
export function blocksOverlap(a: AddressBlock, b: AddressBlock): boolean {
  return a.first <= b.last && b.first <= a.last;
}

/** True when `inner` (an address or a block) lies entirely inside `outer`. */
export function blockContains(outer: AddressBlock, inner: number | AddressBlock): boolean {
  const block = typeof inner === 'number' ? { first: inner, last: inner } : inner;
  return outer.first <= block.first && block.last <= outer.last;
}

/** How many addresses the block holds. */
export function blockSize(block: AddressBlock): number {
  return block.last - block.first + 1;
}

/** {first, last} → `192.168.1.200-192.168.1.220`, or `192.168.1.9/32` for one address: forms MetalLB accepts. */
export function formatAddressBlock(block: AddressBlock): string {
  return block.first === block.last ? `${formatIPv4(block.first)}/32` : `${formatIPv4(block.first)}-${formatIPv4(block.last)}`;
}

function networkOf(ip: number, prefix: number): number {
  const size = 2 ** (32 - prefix);
  return Math.floor(ip / size) * size;
}
