import { describe, expect, it } from 'vitest';
import { parseStaticNetwork } from '../../../../cli/flash/network.js';

const HOST = '192.168.1.101';
const NODE = 'node pi-1';

describe('parseStaticNetwork', () => {
  it('means DHCP when no option is given', () => {
    expect(parseStaticNetwork({}, HOST, NODE)).toEqual({ ok: true });
  });

  it('takes address, gateway and DNS (comma-separated or repeated), normalised', () => {
    expect(parseStaticNetwork({ address: '192.168.1.101/24', gateway: '192.168.1.1', dns: ['1.1.1.1,9.9.9.9', ' 8.8.8.8 '] }, HOST, NODE)).toEqual({
      ok: true,
      network: { address: '192.168.1.101/24', gateway: '192.168.1.1', dns: ['1.1.1.1', '9.9.9.9', '8.8.8.8'] },
    });
  });

  it('uses the gateway as DNS server when --dns is left out', () => {
    expect(parseStaticNetwork({ address: '10.0.0.5/8', gateway: '10.0.0.1' }, 'pi-1.lan', NODE)).toEqual({
      ok: true,
      network: { address: '10.0.0.5/8', gateway: '10.0.0.1', dns: ['10.0.0.1'] },
    });
  });

  it.each([
    [{ gateway: '192.168.1.1' }, ['--gateway only applies to a static address: add --address 192.168.1.101/24 (or leave them out for DHCP).']],
    [
      { dns: ['1.1.1.1'], gateway: '192.168.1.1' },
      ['--gateway and --dns only apply to a static address: add --address 192.168.1.101/24 (or leave them out for DHCP).'],
    ],
    [{ address: '192.168.1.101', gateway: '192.168.1.1' }, ['--address "192.168.1.101" needs the prefix length of your LAN, e.g. 192.168.1.101/24.']],
    [{ address: 'pi-1/24', gateway: '192.168.1.1' }, ['--address "pi-1/24" is not an IPv4 address with a prefix length; write it like 192.168.1.101/24.']],
    [
      { address: '192.168.1.101/31', gateway: '192.168.1.100' },
      ['--address "192.168.1.101/31": a LAN prefix length is between /8 and /30 (most home networks are /24).'],
    ],
    [
      { address: '192.168.1.50/24', gateway: '192.168.1.1' },
      ['--address 192.168.1.50/24 is not the address the inventory gives node pi-1 (host: 192.168.1.101); revue-pi connects to host, so make them the same.'],
    ],
    [{ address: '192.168.1.101/24' }, ["--address needs --gateway (your router's address, e.g. 192.168.1.1): K3s is downloaded from the internet."]],
    [{ address: '192.168.1.101/24', gateway: '192.168.2.1' }, ["--gateway 192.168.2.1 is outside 192.168.1.101/24's subnet; the Pi could not reach it."]],
    [{ address: '192.168.1.101/24', gateway: '192.168.1.101' }, ["--gateway 192.168.1.101 is the node's own address."]],
    [{ address: '192.168.1.101/24', gateway: 'router' }, ['--gateway "router" is not an IPv4 address.']],
    [{ address: '192.168.1.101/24', gateway: '192.168.1.1', dns: ['1.1.1.1,dns.example'] }, ['--dns "dns.example" is not an IPv4 address.']],
  ])('refuses %j', (input, problems) => {
    expect(parseStaticNetwork(input, HOST, NODE)).toEqual({ ok: false, problems });
  });

  it('reports every problem at once', () => {
    const result = parseStaticNetwork({ address: '192.168.1.50/24', gateway: 'x', dns: ['y'] }, HOST, NODE);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems).toHaveLength(3);
  });
});
