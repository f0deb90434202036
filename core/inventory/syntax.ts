/**
 * The strict syntax of every inventory field that reaches a remote command, a file on a node or a manifest. Each
 * check is a pure function `(value, label) → sentence | undefined`: the sentence names the field (`label`), shows the
 * value as JSON (so a line break or a no-break space is visible) and says what to write. The schema (schema.ts)
 * runs them, so a bad value is refused with its line:column before anything is contacted — a bad host name is
 * never even looked up in DNS. The checks for hosts, the domain and URLs are in syntax-hosts.ts.
 */

export type SyntaxCheck = (value: string, label: string) => string | undefined;

export const show = (value: string): string => JSON.stringify(value);

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
export function oddCharacter(value: string, label: string, what: string): string | undefined {
  const odd = describeOddCharacter(value);
  if (odd === undefined) return undefined;
  if (/[\u0000-\u001f\u007f]/.test(value)) return `${label} ${show(value)} holds ${odd} — ${what}, on one line`;
  return `${label} ${show(value)} holds ${odd} — ${what}; retype it in plain ASCII (pasted text often carries such look-alikes)`;
}

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
