import { isIPv6 } from 'node:net';
import { parseIPv4 } from './addresses.js';
import { oddCharacter, show, type SyntaxCheck } from './syntax.js';

/**
 * syntax.ts's checks for where things are: an SSH host (IPv4, IPv6 or DNS name, and the fix for what people write
 * instead), the routes' domain, the installer's URL and the API endpoint. Same shape: `(value, label) → sentence`.
 */

const DNS_LABEL = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/** A DNS host name (RFC 1123): labels of letters, digits and inner hyphens, at most 63 each and 253 in all. */
function dnsNameProblem(name: string): string | undefined {
  const bare = name.endsWith('.') ? name.slice(0, -1) : name;
  if (bare === '') return 'is empty';
  if (bare.length > 253) return 'is longer than 253 characters';
  const labels = bare.split('.');
  const bad = labels.find((l) => !DNS_LABEL.test(l));
  if (bad !== undefined) {
    if (bad === '') return 'has an empty part between dots';
    if (bad.length > 63) return `has a part longer than 63 characters (${show(bad.slice(0, 20))}…)`;
    if (bad.includes('_')) return `has "_" in ${show(bad)}, which host names cannot hold (use "-")`;
    if (/^-|-$/.test(bad)) return `has ${show(bad)}, which starts or ends with "-"`;
    return `has ${show(bad)}, which is not letters, digits and "-"`;
  }
  // A name whose last part is all digits reads as a (bad) IPv4 address, never as a host name.
  if (/^\d+$/.test(labels[labels.length - 1] as string)) return 'ends in a number, so it is no host name (and no IPv4 address either)';
  return undefined;
}

/** Why `text` is not an IPv4 literal that a dotted-decimal reader would take: the octet at fault. */
function ipv4Problem(text: string): string {
  const parts = text.split('.');
  if (parts.length !== 4) return `has ${parts.length} parts; an IPv4 address has 4, e.g. 192.168.1.101`;
  const big = parts.find((p) => p !== '' && Number(p) > 255);
  if (big !== undefined) return `is no IPv4 address: ${big} is over 255`;
  const zero = parts.find((p) => /^0\d/.test(p));
  if (zero !== undefined) return `is no IPv4 address: ${zero} has a leading zero (some tools read it as octal) — write ${Number(zero)}`;
  return 'is no IPv4 address';
}

/**
 * An SSH host: an IPv4 or IPv6 literal or a DNS name. What people write instead gets its own fix: `pi@host` (the
 * user goes in ssh.user), `host:2222` (the port in ssh.port), `ssh://…`, `[fe80::1]`.
 */
export const hostProblem: SyntaxCheck = (value, label) => {
  const odd = oddCharacter(value, label, 'a host is an IPv4 address (192.168.1.101), an IPv6 address or a DNS name (pi-1.local)');
  if (/\s/.test(value) && odd === undefined) return `${label} ${show(value)} holds a space — write the address alone, e.g. 192.168.1.101`;
  if (odd !== undefined) return odd;
  if (value === '') return `${label} is empty — write the IP address or DNS name the Pi answers SSH on, e.g. 192.168.1.101`;
  const scheme = /^([a-z][a-z0-9+.-]*):\/\/([^/]*)/i.exec(value);
  if (scheme) return `${label} ${show(value)} is a URL — write the address alone, e.g. ${show(stripUserPort(scheme[2] as string) || '192.168.1.101')}`;
  const at = value.lastIndexOf('@');
  if (at >= 0) {
    const user = value.slice(0, at);
    const rest = value.slice(at + 1);
    return `${label} ${show(value)} holds a user — write host: ${rest || '192.168.1.101'} and put the user in ssh.user (user: ${user || 'pi'})`;
  }
  const bracketed = /^\[([^\]]*)\](?::(\d+))?$/.exec(value);
  if (bracketed) {
    const port = bracketed[2] === undefined ? '' : ` and the port in ssh.port (port: ${bracketed[2]})`;
    return `${label} ${show(value)} is in brackets — write the IPv6 address without them${port}, e.g. ${bracketed[1] || 'fe80::1'}`;
  }
  const hostPort = /^([^:]+):(\d*)$/.exec(value);
  if (hostPort) {
    return `${label} ${show(value)} holds a port — write host: ${hostPort[1]} and put the port in ssh.port (port: ${hostPort[2] || 22}), for the node or for all`;
  }
  if (value.includes(':')) {
    const [address, zone] = value.split('%', 2) as [string, string | undefined];
    if (isIPv6(address) && (zone === undefined || /^[A-Za-z0-9_.-]{1,15}$/.test(zone))) return undefined;
    return `${label} ${show(value)} is no IPv6 address — write it like fe80::1 (no brackets, no port)`;
  }
  if (/^[0-9.]+$/.test(value)) return parseIPv4(value) === undefined ? `${label} ${show(value)} ${ipv4Problem(value)}` : undefined;
  const dns = dnsNameProblem(value);
  return dns === undefined ? undefined : `${label} ${show(value)} ${dns} — write an IPv4 address (192.168.1.101), an IPv6 address or a host name (pi-1.local)`;
};

function stripUserPort(authority: string): string {
  return authority.replace(/^.*@/, '').replace(/:\d*$/, '');
}

/**
 * A DNS domain for the routes (`<service>.<domain>` in Traefik rules and Ingress hosts): lowercase RFC 1123 names,
 * at least the Kubernetes way (DNS-1123 subdomain). A URL, a path, a port or a wildcard is refused with the fix.
 */
export const domainProblem: SyntaxCheck = (value, label) => {
  const odd = oddCharacter(value, label, 'a domain is letters, digits, "-" and dots, e.g. revue.local');
  if (odd !== undefined) return odd;
  if (value === '') return `${label} is empty — write a DNS domain such as revue.local`;
  const url = /^[a-z][a-z0-9+.-]*:\/\/([^/:]*)/i.exec(value);
  if (url) return `${label} ${show(value)} is a URL — write the domain alone: ${url[1] || 'revue.local'}`;
  if (value.startsWith('*.')) return `${label} ${show(value)} is a wildcard — write the domain without "*.": ${value.slice(2)}`;
  if (/[/:@?#\s]/.test(value))
    return `${label} ${show(value)} holds ${show(/[/:@?#\s]/.exec(value)![0])} — write the domain alone, e.g. revue.local (services answer at <service>.<domain>)`;
  if (value.endsWith('.')) return `${label} ${show(value)} ends with a dot — write ${value.slice(0, -1)}`;
  if (value !== value.toLowerCase()) return `${label} ${show(value)} has capitals — write it in lowercase: ${value.toLowerCase()}`;
  const dns = dnsNameProblem(value);
  if (dns !== undefined) return `${label} ${show(value)} ${dns} — write a DNS domain such as revue.local`;
  // <service>.<domain> must stay within 253 characters; the longest service name is under 20.
  if (value.length > 230) return `${label} is ${value.length} characters long; keep it under 230 so that <service>.<domain> stays a valid name`;
  return undefined;
};

/** The installer's address: https, or plain http to this very machine (a lab, or a mirror on the same host). */
export const installScriptUrlProblem: SyntaxCheck = (value, label) => {
  const odd = oddCharacter(value, label, 'a URL is plain ASCII');
  if (odd !== undefined) return odd;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `${label} ${show(value)} is not a URL — e.g. https://get.k3s.io`;
  }
  if (url.username || url.password) return `${label} holds a user name or password — keep credentials out of the inventory; serve the script without them`;
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return undefined;
  if (url.protocol === 'http:') {
    return `${label} ${show(value)} is plain http: every node would run whatever answers there as root — use https:// (http is accepted only for 127.0.0.1, ::1 or localhost)`;
  }
  return `${label} ${show(value)} must be an https:// URL, e.g. https://get.k3s.io`;
};

function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (host === 'localhost' || host === '::1') return true;
  const ip = parseIPv4(host);
  return ip !== undefined && ip >>> 24 === 127;
}

/**
 * cluster.apiEndpoint: where clients reach the API (tls-san and the kubeconfig's server): a host (IPv4, IPv6 or DNS),
 * `host:port`, or an https URL with nothing after the host and port.
 */
export const apiEndpointProblem: SyntaxCheck = (value, label) => {
  const odd = oddCharacter(value, label, 'an endpoint is a host name or address');
  if (odd !== undefined) return odd;
  let host = value;
  let port: string | undefined;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      return `${label} ${show(value)} is not a URL — write a host (k3s.example.lan), host:port or https://host:port`;
    }
    if (url.protocol !== 'https:') return `${label} ${show(value)} must use https:// (the Kubernetes API speaks TLS) — e.g. https://k3s.example.lan:6443`;
    if (url.username || url.password || (url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) {
      return `${label} ${show(value)} must be https://host[:port] with nothing after it — e.g. https://k3s.example.lan:6443`;
    }
    host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  } else {
    const hostPort = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(value);
    if (hostPort) {
      host = (hostPort[1] as string).replace(/^\[(.*)\]$/, '$1');
      port = hostPort[2];
    }
  }
  if (port !== undefined && !(Number(port) >= 1 && Number(port) <= 65535)) return `${label} ${show(value)} has port ${port}; a port is 1 to 65535`;
  const problem = hostProblem(host, label);
  return problem === undefined ? undefined : `${problem} (as host, host:port or https://host:port)`;
};
