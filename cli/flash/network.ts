import { formatIPv4, parseIPv4 } from '../../core/inventory/addresses.js';

/**
 * The static address a Pi gets on first boot (`--address CIDR --gateway IP --dns IP`). Pure: checks the
 * three options together and against the inventory's host for the node.
 */

export interface StaticNetwork {
  /** `192.168.1.101/24`: the node's address with its prefix length. */
  address: string;
  gateway: string;
  dns: string[];
}

export interface StaticNetworkInput {
  address?: string;
  gateway?: string;
  /** One or more addresses, each possibly comma-separated (`--dns 1.1.1.1,9.9.9.9` or repeated). */
  dns?: string[];
}

export type StaticNetworkResult = { ok: true; network?: StaticNetwork } | { ok: false; problems: string[] };

/**
 * Undefined network when none of the options is given (the Pi then takes DHCP on eth0). `nodeLabel` and
 * `host` name the inventory's node and its `host:` so a mismatch can be pointed at.
 */
export function parseStaticNetwork(input: StaticNetworkInput, host: string, nodeLabel: string): StaticNetworkResult {
  const dnsList = (input.dns ?? [])
    .flatMap((d) => d.split(','))
    .map((d) => d.trim())
    .filter((d) => d !== '');
  if (input.address === undefined) {
    const stray = [input.gateway !== undefined ? '--gateway' : undefined, dnsList.length > 0 ? '--dns' : undefined].filter(Boolean);
    if (stray.length > 0) {
      return {
        ok: false,
        problems: [
          `${stray.join(' and ')} only ${stray.length === 1 ? 'applies' : 'apply'} to a static address: add --address ${suggestCidr(host)} (or leave them out for DHCP).`,
        ],
      };
    }
    return { ok: true };
  }

  const problems: string[] = [];
  const [ipText = '', prefixText, ...rest] = input.address.split('/');
  const ip = parseIPv4(ipText);
  const prefix = prefixText !== undefined && /^[0-9]{1,2}$/.test(prefixText) ? Number(prefixText) : undefined;
  if (ip === undefined || rest.length > 0) {
    problems.push(`--address "${input.address}" is not an IPv4 address with a prefix length; write it like ${suggestCidr(host)}.`);
  } else if (prefix === undefined) {
    problems.push(`--address "${input.address}" needs the prefix length of your LAN, e.g. ${ipText}/24.`);
  } else if (prefix < 8 || prefix > 30) {
    problems.push(`--address "${input.address}": a LAN prefix length is between /8 and /30 (most home networks are /24).`);
  }

  const hostIp = parseIPv4(host);
  if (ip !== undefined && hostIp !== undefined && ip !== hostIp) {
    problems.push(
      `--address ${input.address} is not the address the inventory gives ${nodeLabel} (host: ${host}); revue-pi connects to host, so make them the same.`,
    );
  }

  let gateway: string | undefined;
  if (input.gateway === undefined) {
    problems.push(`--address needs --gateway (your router's address, e.g. ${guessGateway(ip, prefix) ?? '192.168.1.1'}): K3s is downloaded from the internet.`);
  } else {
    const gw = parseIPv4(input.gateway);
    if (gw === undefined) problems.push(`--gateway "${input.gateway}" is not an IPv4 address.`);
    else if (ip !== undefined && prefix !== undefined && !sameSubnet(ip, gw, prefix)) {
      problems.push(`--gateway ${input.gateway} is outside ${input.address}'s subnet; the Pi could not reach it.`);
    } else if (gw === ip) problems.push(`--gateway ${input.gateway} is the node's own address.`);
    else gateway = formatIPv4(gw);
  }

  const dns: string[] = [];
  for (const d of dnsList) {
    const value = parseIPv4(d);
    if (value === undefined) problems.push(`--dns "${d}" is not an IPv4 address.`);
    else dns.push(formatIPv4(value));
  }

  if (problems.length > 0 || ip === undefined || prefix === undefined || gateway === undefined) return { ok: false, problems };
  return { ok: true, network: { address: `${formatIPv4(ip)}/${prefix}`, gateway, dns: dns.length > 0 ? dns : [gateway] } };
}

function sameSubnet(a: number, b: number, prefix: number): boolean {
  const size = 2 ** (32 - prefix);
  return Math.floor(a / size) === Math.floor(b / size);
}

function guessGateway(ip: number | undefined, prefix: number | undefined): string | undefined {
  if (ip === undefined || prefix === undefined || prefix < 8 || prefix > 30) return undefined;
  const size = 2 ** (32 - prefix);
  return formatIPv4(Math.floor(ip / size) * size + 1);
}

function suggestCidr(host: string): string {
  return parseIPv4(host) !== undefined ? `${host}/24` : '192.168.1.101/24';
}
