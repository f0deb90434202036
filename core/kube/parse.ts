import type { z } from 'zod';
import { KIND_SCHEMAS, ListSchema, OtherObjectSchema, type KnownKind, type KubeItem, type KubeKinds } from './schemas.js';

/**
 * Reading what `kubectl … -o json` prints into typed objects (schemas.ts). Every failure is a sentence naming the
 * command that printed it and the field that did not fit, e.g. "`k3s kubectl get nodes -o json` printed items[2]
 * (Node pi-3) with status.conditions[0].status a number where text belongs".
 */

export class KubeOutputError extends Error {
  constructor(
    readonly command: string,
    readonly detail: string,
  ) {
    super(`\`${command}\` printed ${detail}`);
    this.name = 'KubeOutputError';
  }
}

/** How the command is named in messages: its first line, shortened. */
export function commandLabel(command: string): string {
  const first = command.trim().split('\n')[0] ?? '';
  return first.length > 240 ? `${first.slice(0, 237)}…` : first;
}

function describeIssue(issue: z.ZodIssue): string {
  const path = issue.path.reduce<string>((p, k) => (typeof k === 'number' ? `${p}[${k}]` : p ? `${p}.${k}` : String(k)), '');
  const field = path || 'the item';
  if (issue.code === 'invalid_type') {
    const what = (t: string) => ({ string: 'text', number: 'a number', boolean: 'true or false', array: 'a list', object: 'an object' })[t] ?? t;
    return `${field} ${issue.received === 'undefined' ? 'missing' : `is ${what(issue.received)}`} where ${what(issue.expected)} belongs`;
  }
  return `${field}: ${issue.message}`;
}

/** JSON.parse, failing with a sentence that names the command and shows the start of what it printed. */
export function parseJson(text: string, command: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new KubeOutputError(commandLabel(command), `something that is not JSON: ${text.trim().slice(0, 160) || '(nothing)'}`);
  }
}

/** One item checked against the schema of its kind (`kind` fills in an item that names none, as in a typed list). */
export function parseKubeItem(raw: unknown, where: { command: string; index?: number; kind?: KnownKind }): KubeItem {
  const given = raw && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : undefined;
  const at = where.index === undefined ? 'an object' : `items[${where.index}]`;
  if (!given) throw new KubeOutputError(commandLabel(where.command), `${at} that is not an object`);
  const item = given.kind === undefined && where.kind ? { ...given, kind: where.kind } : given;
  const kind = typeof item.kind === 'string' && item.kind in KIND_SCHEMAS ? (item.kind as KnownKind) : undefined;
  const result = (kind ? KIND_SCHEMAS[kind] : OtherObjectSchema).safeParse(item);
  if (result.success) return result.data as KubeItem;
  const meta = item.metadata && typeof item.metadata === 'object' ? (item.metadata as Record<string, unknown>) : {};
  const name = [meta.namespace, meta.name].filter((v) => typeof v === 'string').join('/');
  const label = `${at}${kind || name ? ` (${[kind ?? item.kind, name].filter(Boolean).join(' ')})` : ''}`;
  throw new KubeOutputError(commandLabel(where.command), `${label} with ${result.error.issues.slice(0, 3).map(describeIssue).join('; ')}`);
}

/** A document of another shape (`kubectl get --raw …`) checked against its schema; `what` names it in the message. */
export function parseKubeDocument<S extends z.ZodTypeAny>(json: string, schema: S, where: { command: string; what: string }): z.output<S> {
  const command = commandLabel(where.command);
  const doc = parseJson(json, command);
  const result = schema.safeParse(doc);
  if (!result.success) throw new KubeOutputError(command, `${where.what} with ${result.error.issues.slice(0, 3).map(describeIssue).join('; ')}`);
  return result.data;
}

/** A List printed by `kubectl get … -o json`; `kind` is the type of a one-type list, for items that do not say. */
export function parseKubeList(json: string, where: { command: string; kind?: KnownKind }): KubeItem[] {
  const command = commandLabel(where.command);
  const doc = parseJson(json, command);
  const list = ListSchema.safeParse(doc);
  if (!list.success) throw new KubeOutputError(command, 'JSON without an items list');
  return list.data.items.map((raw, index) => parseKubeItem(raw, { command, index, ...(where.kind ? { kind: where.kind } : {}) }));
}

/** Several Lists printed one after the other (several `kubectl … -o json` in one script), one array per List. */
export function parseKubeLists(text: string, where: { command: string }): KubeItem[][] {
  return splitJsonDocuments(text).map((doc) => parseKubeList(doc, where));
}

/** Whether an item is of this kind (and so checked by its schema). */
export function isKind<K extends KnownKind>(item: KubeItem, kind: K): item is KubeKinds[K] {
  return item.kind === kind;
}

/** The items of one kind. */
export function ofKind<K extends KnownKind>(items: readonly KubeItem[], kind: K): KubeKinds[K][] {
  return items.filter((i): i is KubeKinds[K] => isKind(i, kind));
}

/** Splits concatenated pretty-printed JSON documents (what several `kubectl … -o json` in a row print). */
export function splitJsonDocuments(text: string): string[] {
  const docs: string[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  let escaped = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (escaped) escaped = false;
      else if (c === '\\') escaped = true;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '{') {
      if (depth === 0) start = i;
      depth++;
    } else if (c === '}') {
      depth--;
      if (depth === 0 && start >= 0) {
        docs.push(text.slice(start, i + 1));
        start = -1;
      }
    }
  }
  return docs;
}
