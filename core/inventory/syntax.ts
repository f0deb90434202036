import { isIPv6 } from 'node:net';
import { parseIPv4 } from './addresses.js';

/**
 * The strict syntax of every inventory field that reaches a remote command, a file on a node or a manifest. Each
 * check is a pure function `(value, label) → sentence | undefined`: the sentence names the field (`label`), shows the
 * value as JSON (so a line break or a no-break space is visible) and says what to write. The schema (schema.ts)
 * runs them, so a bad value is refused with its line:column before anything is contacted — a bad host name is
 * never even looked up in DNS.
 */

export type SyntaxCheck = (value: string, label: string) => string | undefined;

const show = (value: string): string => JSON.stringify(value);

/** `U+00A0 (no-break space)` for the first character outside printable ASCII, to name what an editor hides. */
export function describeOddCharacter(value: string): string | undefined {
  for (const ch of value) {
    const code = ch.codePointAt(0) as number;
    if (code >= 0x20 && code < 0x7f) continue;
    const hex = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
    const name = CHARACTER_NAMES[code];
    return name ? `${hex} (${name})` : hex;
  }
  return undefined;
}

const CHARACTER_NAMES: Record<number, string> = {
  0x09: 'a tab',
  0x0a: 'a line break',
  0x0d: 'a carriage return',
  0x00: 'a NUL byte',
  0x1b: 'an escape character',
  0xa0: 'a no-break space',
  0x200b: 'a zero-width space',
  0x200c: 'a zero-width non-joiner',
  0x200d: 'a zero-width joiner',
  0x2007: 'a figure space',
  0x202f: 'a narrow no-break space',
  0x3000: 'an ideographic space',
  0xfeff: 'a byte order mark',
  0x2010: 'a Unicode hyphen',
  0x2011: 'a non-breaking hyphen',
  0x2013: 'an en dash',
  0x2014: 'an em dash',
  0x2212: 'a minus sign',
  0xff0e: 'a full-width full stop',
  0x3002: 'an ideographic full stop',
};

/** The part of a message about characters outside printable ASCII, or undefined when there are none. */
function oddCharacter(value: string, label: string, what: string): string | undefined {
  const odd = describeOddCharacter(value);
  if (odd === undefined) return undefined;
  if (/[\u0000-\u001f\u007f]/.test(value)) return `${label} ${show(value)} holds ${odd} — ${what}, on one line`;
  return `${label} ${show(value)} holds ${odd} — ${what}; retype it in plain ASCII (pasted text often carries such look-alikes)`;
}

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

/**
 * A Linux network interface name, as the kernel allows (dev_valid_name: 1–15 bytes, no "/", ":" or white space, not
 * "." or "..") and narrowed to letters, digits, "_", "-" and "." not starting with "-", which every real name fits.
 */
export const interfaceNameProblem: SyntaxCheck = (value, label) => {
  const odd = oddCharacter(value, label, 'an interface name is letters, digits, "_", "-" and "."');
  if (odd !== undefined) return odd;
  if (value === '') return `${label} is empty — write the Wi-Fi interface, e.g. wlan0 (ip link lists them)`;
  if (value.length > 15) return `${label} ${show(value)} is longer than 15 characters, the most Linux allows — check ip link on the node`;
  if (value === '.' || value === '..' || !/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(value)) {
    return `${label} ${show(value)} is not a network interface name — letters, digits, "_", "-" and ".", e.g. wlan0 (ip link on the node lists them)`;
  }
  return undefined;
};

/** A user name for SSH and the first-boot script: what useradd accepts (letters, digits, "_", "-", "."; 32 at most). */
export const userNameProblem: SyntaxCheck = (value, label) => {
  const odd = oddCharacter(value, label, 'a user name is letters, digits, "_", "-" and "."');
  if (odd !== undefined) return odd;
  if (value.includes('@'))
    return `${label} ${show(value)} holds "@" — write the user alone (user: ${value.split('@')[0] || 'pi'}); the address goes in the node's host`;
  if (!/^[A-Za-z_][A-Za-z0-9_.-]{0,31}$/.test(value)) {
    return `${label} ${show(value)} is not a user name — up to 32 letters, digits, "_", "-" and ".", starting with a letter or "_", e.g. pi`;
  }
  return undefined;
};

/** Namespaces revue-pi or Kubernetes itself own: the app's objects there would mix with theirs, and pruning could hit them. */
export const RESERVED_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease', 'metallb-system', 'monitoring'] as const;

/** The app namespace: a Kubernetes namespace name (DNS-1123 label) that nobody else owns. */
export const appNamespaceProblem: SyntaxCheck = (value, label) => {
  const odd = oddCharacter(value, label, 'a namespace is lowercase letters, digits and "-"');
  if (odd !== undefined) return odd;
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(value) || value.length > 63) {
    return `${label} ${show(value)} is not a Kubernetes namespace name — up to 63 lowercase letters, digits and "-", starting and ending with a letter or digit, e.g. revue`;
  }
  if ((RESERVED_NAMESPACES as readonly string[]).includes(value) || value.startsWith('kube-')) {
    return `${label} ${show(value)} is reserved (Kubernetes, K3s, MetalLB or the monitoring stack use it) — pick a namespace of its own, e.g. revue`;
  }
  return undefined;
};

const QUALIFIED_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Kubernetes' qualified name (label keys, taint keys): an optional DNS-subdomain prefix and "/", then a name. */
export function qualifiedNameProblem(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  const prefix = slash < 0 ? undefined : key.slice(0, slash);
  const name = slash < 0 ? key : key.slice(slash + 1);
  if (prefix !== undefined && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) return `its prefix ${show(prefix)} is not a lowercase DNS name`;
  if (!QUALIFIED_NAME.test(name)) return `${show(name)} is not up to 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit`;
  return undefined;
}

/** A label value, or a taint's: empty, or up to 63 letters, digits, "-", "_" and ".", starting and ending alphanumeric. */
export function labelValueProblem(value: string): string | undefined {
  return value === '' || QUALIFIED_NAME.test(value)
    ? undefined
    : `${show(value)} is not up to 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit`;
}

const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];

/** `key[=value]:Effect`, each part as Kubernetes checks it. */
export const taintProblem: SyntaxCheck = (value, label) => {
  const odd = oddCharacter(value, label, 'a taint is key=value:NoSchedule');
  if (odd !== undefined) return odd;
  const colon = value.lastIndexOf(':');
  const effect = colon < 0 ? '' : value.slice(colon + 1);
  if (colon < 0 || !TAINT_EFFECTS.includes(effect)) {
    return `${label} ${show(value)} must end in :NoSchedule, :PreferNoSchedule or :NoExecute, e.g. dedicated=control-plane:NoSchedule`;
  }
  const [key = '', ...rest] = value.slice(0, colon).split('=');
  const keyProblem = qualifiedNameProblem(key);
  if (keyProblem !== undefined) return `${label} ${show(value)}: the key ${keyProblem} — e.g. dedicated=control-plane:NoSchedule`;
  const valueProblem = rest.length === 0 ? undefined : rest.length > 1 ? `${show(rest.join('='))} holds "="` : labelValueProblem(rest[0] as string);
  if (valueProblem !== undefined) return `${label} ${show(value)}: the value ${valueProblem}`;
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

/** A Docker/OCI image tag: letters, digits, "_", "." and "-", up to 128, not starting with "." or "-". */
export const imageTagProblem: SyntaxCheck = (value, label) =>
  /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(value)
    ? undefined
    : `${label} ${show(value)} is not an image tag — e.g. 3.1.14 (letters, digits, "_", "." and "-")`;

const REFERENCE =
  /^(?:(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)(?:\.(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?))*(?::[0-9]+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[0-9a-f]{64})?$/;

/** An image reference as the distribution spec writes it: [registry[:port]/]path[:tag][@sha256:digest]. */
export const imageReferenceProblem: SyntaxCheck = (value, label) => {
  const odd = oddCharacter(value, label, 'an image reference is plain ASCII');
  if (odd !== undefined) return odd;
  return REFERENCE.test(value)
    ? undefined
    : `${label} ${show(value)} is not an image reference — write registry/repository:tag, e.g. docker.io/library/mongo:8.0.4`;
};

/** A local file path in the inventory: any name, but on one line (it is shown in messages and logs). */
export const localPathProblem: SyntaxCheck = (value, label) => {
  if (value === '') return `${label} is empty — write the path of the file, or remove the line`;
  return /[\u0000-\u001f\u007f]/.test(value) ? `${label} ${show(value)} holds a control character or line break — write the path on one line` : undefined;
};

/** The air-gap images tarball's file name: it becomes a file name in K3s's images folder on every node. */
export const imagesFileNameProblem: SyntaxCheck = (value, label) => {
  const base = value.replace(/\\/g, '/').split('/').pop() ?? '';
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.+-]*$/.test(base)) {
    return `${label}: the file name ${show(base)} is copied to every node as is — rename the file to letters, digits, "_", "-", "+" and ".", e.g. k3s-airgap-images-arm64.tar.zst`;
  }
  return undefined;
};
