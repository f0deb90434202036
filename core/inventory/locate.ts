import yaml from 'js-yaml';
import type { PathSegment } from './path.js';

/**
 * YAML with positions, using js-yaml's `listener` option: js-yaml calls it on every node it opens and
 * closes, with the parser state (offset, kind, result). Nesting those calls gives a tree of nodes; a
 * mapping's children come as key, value, key, value… (plus empty attempts, which carry no kind), and a
 * sequence's children are its items. From that tree, `locate(path)` finds where a field is written.
 */

export interface Position {
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
}

interface Frame {
  open: number;
  kind: string | null;
  result: unknown;
  children: Frame[];
}

interface Located {
  /** Where the node's content starts. */
  start: number;
  kind: string | null;
  /** For mappings: key → where the key is written and its value's node. */
  entries?: Map<string, { key: number; value?: Located }>;
  /** For sequences: the items. */
  items?: (Located | undefined)[];
}

export interface LocatedDocument {
  /** The parsed value, as js-yaml returns it. */
  value: unknown;
  /** Where the node at `path` is written; for a path that is not there, the deepest part that is. */
  locate(path: readonly PathSegment[], which?: 'key' | 'value'): Position;
}

/** Parses one YAML document and records where every node sits. Throws js-yaml's YAMLException. */
export function loadLocated(text: string): LocatedDocument {
  const stack: Frame[] = [{ open: 0, kind: null, result: undefined, children: [] }];
  const value = yaml.load(text, {
    listener(event, state) {
      if (event === 'open') {
        stack.push({ open: state.position, kind: null, result: undefined, children: [] });
        return;
      }
      const frame = stack.pop();
      const parent = stack[stack.length - 1];
      if (frame === undefined || parent === undefined) return;
      frame.kind = state.kind;
      frame.result = state.result;
      parent.children.push(frame);
    },
  });
  const root = stack[0]?.children[0];
  const lines = lineStarts(text);
  const tree = root === undefined ? undefined : build(root, text);
  const position = (offset: number): Position => toPosition(lines, offset);

  return {
    value,
    locate(path, which = 'value') {
      if (tree === undefined) return { line: 1, column: 1 };
      let node = tree;
      for (let i = 0; i < path.length; i++) {
        const segment = path[i] as PathSegment;
        const last = i === path.length - 1;
        if (node.entries !== undefined) {
          const entry = node.entries.get(String(segment));
          if (entry === undefined) return position(node.start);
          if (entry.value === undefined || (last && which === 'key')) return position(entry.key);
          node = entry.value;
        } else if (node.items !== undefined && typeof segment === 'number') {
          const item = node.items[segment];
          if (item === undefined) return position(node.start);
          node = item;
        } else {
          return position(node.start);
        }
      }
      return position(node.start);
    },
  };
}

function build(frame: Frame, text: string): Located {
  const f = unwrap(frame);
  const located: Located = { start: contentStart(text, f.open), kind: f.kind };
  if (f.kind === 'mapping' && isRecord(f.result)) {
    located.entries = mappingEntries(f, text);
  } else if (f.kind === 'sequence' && Array.isArray(f.result)) {
    located.items = sequenceItems(f, text);
  }
  return located;
}

/** js-yaml sometimes wraps a node in an outer call that yields the same result (a flow collection read where a key was tried). */
function unwrap(frame: Frame): Frame {
  let f = frame;
  while (f.kind !== 'scalar' && f.children.length === 1 && f.children[0]?.result === f.result) {
    f = f.children[0] as Frame;
  }
  return f;
}

function mappingEntries(frame: Frame, text: string): Map<string, { key: number; value?: Located }> {
  const entries = new Map<string, { key: number; value?: Located }>();
  const keys = Object.keys(frame.result as Record<string, unknown>);
  const children = frame.children;
  // Find each key's frame in order; its value is the first node with content before the next key.
  const keyIndexes: number[] = [];
  let cursor = -1;
  for (const key of keys) {
    // A block mapping's key is always followed by its value's node, so look two ahead first; a flow
    // mapping's key without a value (`{a, b: 1}`) has none, so fall back to the very next node.
    let found = findKey(children, key, cursor + 1);
    if (found < 0) found = findKey(children, key, cursor);
    keyIndexes.push(found);
    if (found >= 0) cursor = found + 1;
  }
  keys.forEach((key, k) => {
    const index = keyIndexes[k] as number;
    if (index < 0) return; // e.g. keys brought in by a `<<` merge: reported at the mapping
    const keyFrame = children[index] as Frame;
    const next = keyIndexes.slice(k + 1).find((i) => i >= 0) ?? children.length;
    let value: Located | undefined;
    for (let i = index + 1; i < next; i++) {
      const child = children[i] as Frame;
      if (child.kind !== null || (child.result !== null && child.result !== undefined)) {
        value = build(child, text);
        break;
      }
    }
    entries.set(key, { key: contentStart(text, keyFrame.open), value });
  });
  return entries;
}

function findKey(children: Frame[], key: string, from: number): number {
  for (let i = Math.max(from, 0); i < children.length; i++) {
    const child = children[i] as Frame;
    if (child.kind === 'scalar' && child.result !== null && String(child.result) === key) return i;
  }
  return -1;
}

function sequenceItems(frame: Frame, text: string): (Located | undefined)[] {
  const items = frame.result as unknown[];
  const out: (Located | undefined)[] = [];
  let j = 0;
  for (const item of items) {
    const child = frame.children[j];
    if (child === undefined) {
      out.push(undefined);
      continue;
    }
    // An empty `-` entry followed by a less indented line yields null without a node of its own.
    if (item === null && child.result !== null) {
      out.push(undefined);
      continue;
    }
    out.push(build(child, text));
    j++;
  }
  return out;
}

/** From where js-yaml opened a node, skip blanks, line breaks and comments to where its content starts. */
function contentStart(text: string, from: number): number {
  let i = from;
  while (i < text.length) {
    const ch = text[i];
    if (ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n') {
      i++;
    } else if (ch === '#') {
      while (i < text.length && text[i] !== '\n') i++;
    } else {
      break;
    }
  }
  return i < text.length ? i : from;
}

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') starts.push(i + 1);
  return starts;
}

function toPosition(starts: number[], offset: number): Position {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((starts[mid] as number) <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, column: offset - (starts[lo] as number) + 1 };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
