import { z } from 'zod';
import { fieldLabel, type PathSegment } from './path.js';

/**
 * zod's issues → sentences that say what is wrong and what to write instead. Values of fields that
 * may hold secrets (anything ending in `Env`, unknown keys' values) are never repeated back.
 */

export interface ShapeIssue {
  path: PathSegment[];
  message: string;
  /** Point at the key rather than the value (unknown fields). */
  at: 'key' | 'value';
}

/** What to write for a required field that is missing, by the field's key. */
const REQUIRED_HINTS: Record<string, string> = {
  cluster: 'add a cluster: section with a name, e.g. "cluster:" then "  name: revue"',
  name: 'add name: with lowercase letters, digits and "-", e.g. name: pi-1',
  nodes: 'add a nodes: list with at least one node (name, host, role)',
  host: 'add host: with the IP address or hostname the Pi answers SSH on, e.g. host: 192.168.1.101',
  role: 'add role: server (runs the control plane) or role: agent (runs workloads only)',
  addresses: 'add addresses: with CIDRs or ranges, e.g. - 192.168.1.200-192.168.1.220',
  binary: 'add binary: with the path of the k3s-arm64 file of the release',
  images: 'add images: with the path of the k3s-airgap-images-arm64 tarball of the release',
  installScript: 'add installScript: with the path of a saved copy of https://get.k3s.io',
};

/** Common wrong names for a field → the field. Used only when that field is allowed where the key was written. */
const SYNONYMS: Record<string, string> = {
  hostname: 'host',
  ip: 'host',
  ipaddress: 'host',
  address: 'host',
  addr: 'host',
  type: 'role',
  username: 'user',
  login: 'user',
  password: 'passwordEnv',
  pass: 'passwordEnv',
  sudopassword: 'sudoPasswordEnv',
  sudopass: 'sudoPasswordEnv',
  passphrase: 'keyPassphraseEnv',
  keypassphrase: 'keyPassphraseEnv',
  key: 'keyPath',
  keyfile: 'keyPath',
  identityfile: 'keyPath',
  identity: 'keyPath',
  privatekey: 'keyPath',
  agent: 'useAgent',
  bastion: 'jump',
  proxyjump: 'jump',
  jumphost: 'jump',
  pool: 'pools',
  range: 'addresses',
  ranges: 'addresses',
  cidr: 'addresses',
  servers: 'nodes',
  hosts: 'nodes',
  k8s: 'k3s',
  kubernetes: 'k3s',
  ingressip: 'ingress',
  traefik: 'ingress',
  mediamtx: 'mediaServer',
  media: 'mediaServer',
  brokers: 'kafka',
};

export function shapeIssues(error: z.ZodError, root: z.ZodTypeAny): ShapeIssue[] {
  const out: ShapeIssue[] = [];
  // A misspelt required field shows up twice: as missing and as unknown. The unknown one, with its
  // "did you mean", says it all, so the missing one is dropped.
  const misspelt = new Set<string>();
  for (const issue of error.issues) {
    if (issue.code !== 'unrecognized_keys') continue;
    const allowed = allowedKeys(schemaAt(root, issue.path));
    for (const key of issue.keys) {
      const suggestion = didYouMean(key, allowed);
      if (suggestion !== undefined) misspelt.add(JSON.stringify([...issue.path, suggestion]));
    }
  }
  for (const issue of error.issues) {
    const path = issue.path;
    if (issue.code === 'unrecognized_keys') {
      const allowed = allowedKeys(schemaAt(root, path));
      for (const key of issue.keys) {
        out.push({ path: [...path, key], message: unknownFieldMessage(key, allowed), at: 'key' });
      }
      continue;
    }
    if (issue.code === 'invalid_type' && issue.received === 'undefined' && misspelt.has(JSON.stringify(path))) continue;
    out.push({ path, message: issueMessage(issue), at: 'value' });
  }
  return out;
}

export function unknownFieldMessage(key: string, allowed: string[]): string {
  const suggestion = didYouMean(key, allowed);
  if (suggestion === undefined) {
    const list = allowed.length > 0 ? `; allowed here: ${allowed.join(', ')}` : '';
    return `unknown field ${JSON.stringify(key)} — remove it${list}`;
  }
  const secretNote = suggestion.endsWith('Env') ? ` It takes the NAME of an environment variable holding the secret, never the secret itself.` : '';
  return `unknown field ${JSON.stringify(key)} — did you mean "${suggestion}"?${secretNote}`;
}

/** The allowed key closest to `key`: same letters in another case, a known synonym, or a small edit away. */
export function didYouMean(key: string, allowed: string[]): string | undefined {
  const lower = key.toLowerCase();
  const sameLetters = allowed.find((a) => a.toLowerCase() === lower);
  if (sameLetters !== undefined) return sameLetters;
  const synonym = SYNONYMS[lower] ?? SYNONYMS[key];
  if (synonym !== undefined && allowed.includes(synonym)) return synonym;
  let best: { key: string; distance: number } | undefined;
  for (const candidate of allowed) {
    const distance = editDistance(lower, candidate.toLowerCase());
    const limit = Math.max(1, Math.floor(Math.max(candidate.length, key.length) / 3));
    if (distance <= limit && (best === undefined || distance < best.distance)) best = { key: candidate, distance };
  }
  if (best !== undefined) return best.key;
  // `sshUser` → `user`, `nodeLabels` → `labels`: an allowed key inside the unknown one.
  const inside = allowed.filter((a) => a.length >= 4 && lower.includes(a.toLowerCase())).sort((a, b) => b.length - a.length);
  return inside[0];
}

function issueMessage(issue: z.ZodIssue): string {
  const label = fieldLabel(issue.path);
  const key = lastKey(issue.path);
  const secret = key !== undefined && key.endsWith('Env');
  switch (issue.code) {
    case 'invalid_type': {
      if (issue.received === 'undefined') {
        const hint = (key !== undefined && REQUIRED_HINTS[key]) || `add ${key ?? 'it'}:`;
        return `${label} is required — ${hint}`;
      }
      if (issue.received === 'null') {
        if (issue.expected === 'object') return `${label} has nothing under it — add its fields below it, indented`;
        if (issue.expected === 'array') return `${label} has nothing under it — add its entries below it, one "- " per line`;
        return `${label} is empty — give it a value or remove the line`;
      }
      if (issue.expected === 'integer') {
        return `${label} must be a whole number`;
      }
      const got = secret ? '' : ` (got ${describeType(issue.received)})`;
      return `${label} must be ${describeType(issue.expected)}${got}${typeFix(issue.expected, issue.received)}`;
    }
    case 'invalid_enum_value': {
      const options = orList(issue.options.map((o) => JSON.stringify(o)));
      const got = secret ? '' : ` (got ${JSON.stringify(issue.received)})`;
      return `${label} must be ${options}${got}`;
    }
    case 'invalid_literal':
      return `${label} must be ${JSON.stringify(issue.expected)}`;
    case 'invalid_string': {
      if (issue.validation === 'url') return `${label} must be a URL such as https://get.k3s.io`;
      if (issue.validation === 'regex' && isCustom(issue.message)) return `${label} ${issue.message}`;
      return `${label} is not a valid ${typeof issue.validation === 'string' ? issue.validation : 'value'}`;
    }
    case 'too_small': {
      if (isCustom(issue.message)) return `${label} ${issue.message}`;
      if (issue.type === 'string') return `${label} must not be empty — give it a value or remove the line`;
      if (issue.type === 'array') return `${label} needs at least ${String(issue.minimum)} ${plural(issue.minimum, 'entry', 'entries')}`;
      return `${label} must be ${issue.inclusive ? 'at least' : 'more than'} ${String(issue.minimum)}`;
    }
    case 'too_big': {
      if (isCustom(issue.message)) return `${label} ${issue.message}`;
      if (issue.type === 'string') return `${label} must be at most ${String(issue.maximum)} characters long`;
      if (issue.type === 'array') return `${label} takes at most ${String(issue.maximum)} ${plural(issue.maximum, 'entry', 'entries')} — remove the extra ones`;
      return `${label} must be ${issue.inclusive ? 'at most' : 'less than'} ${String(issue.maximum)}`;
    }
    case 'custom':
      // Written by the syntax checks (syntax.ts) as whole sentences that name the field.
      return issue.message;
    default:
      return `${label}: ${issue.message}`;
  }
}

/** zod's own messages start like this; messages written in schema.ts start with "must" or "needs". */
function isCustom(message: string): boolean {
  return !/^(String|Number|Array|Set|Date|BigInt|Expected|Invalid|Required|Too|Value|Should)\b/.test(message);
}

function describeType(t: string): string {
  switch (t) {
    case 'string':
      return 'text';
    case 'number':
      return 'a number';
    case 'boolean':
      return 'true or false';
    case 'array':
      return 'a list';
    case 'object':
      return 'a mapping';
    case 'date':
      return 'a date';
    default:
      return t;
  }
}

function typeFix(expected: string, received: string): string {
  if (expected === 'string' && (received === 'number' || received === 'boolean' || received === 'date')) {
    return ' — put the value in quotes';
  }
  if (expected === 'number' && received === 'string') return ' — write the number without quotes';
  if (expected === 'boolean') return ' — write true or false, without quotes';
  if (expected === 'array') return ' — write a list, one "- item" per line';
  if (expected === 'object') return ' — write "key: value" lines indented under it';
  return '';
}

function orList(items: string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}

function plural(n: number | bigint, one: string, many: string): string {
  return Number(n) === 1 ? one : many;
}

function lastKey(path: readonly PathSegment[]): string | undefined {
  for (let i = path.length - 1; i >= 0; i--) {
    const segment = path[i];
    if (typeof segment === 'string') return segment;
  }
  return undefined;
}

/** The schema that validates the value at `path`, looking through defaults, optionals, lists and records. */
export function schemaAt(root: z.ZodTypeAny, path: readonly PathSegment[]): z.ZodTypeAny | undefined {
  let schema: z.ZodTypeAny | undefined = unwrapSchema(root);
  for (const segment of path) {
    if (schema === undefined) return undefined;
    if (schema instanceof z.ZodObject && typeof segment === 'string') {
      schema = (schema.shape as Record<string, z.ZodTypeAny>)[segment];
    } else if (schema instanceof z.ZodArray && typeof segment === 'number') {
      schema = schema.element as z.ZodTypeAny;
    } else if (schema instanceof z.ZodRecord) {
      schema = schema.valueSchema as z.ZodTypeAny;
    } else {
      return undefined;
    }
    schema = schema === undefined ? undefined : unwrapSchema(schema);
  }
  return schema;
}

/** The keys an object schema allows, in the order they are declared. */
export function allowedKeys(schema: z.ZodTypeAny | undefined): string[] {
  return schema instanceof z.ZodObject ? Object.keys(schema.shape as object) : [];
}

function unwrapSchema(schema: z.ZodTypeAny): z.ZodTypeAny {
  let s = schema;
  for (;;) {
    if (s instanceof z.ZodDefault) s = s._def.innerType as z.ZodTypeAny;
    else if (s instanceof z.ZodOptional || s instanceof z.ZodNullable) s = s.unwrap() as z.ZodTypeAny;
    else if (s instanceof z.ZodEffects) s = s.innerType() as z.ZodTypeAny;
    else return s;
  }
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j] as number;
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min(above + 1, (row[j - 1] as number) + 1, diagonal + cost);
      diagonal = above;
    }
  }
  return row[b.length] as number;
}
