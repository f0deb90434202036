import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { z } from 'zod';
import { type ImageKey, isImageKey, resolveImages } from '../core/inventory/images.js';
import type { K8sObject } from './objects.js';

/**
 * Upstream manifests are vendored byte for byte; revue-pi's changes to them are a declared list of patches (a YAML
 * data file beside the manifest, e.g. workloads/metallb/patches.yaml), applied here at render time. `changedPaths`
 * is the other half: the structural difference between two objects, which the tests hold to the declared list.
 */

/** One step into an object: a key, or the element of a list whose `name` is this (a container, an env var). */
export type PathStep = string | { name: string };

const pathStep = z.union([z.string().min(1), z.object({ name: z.string().min(1) }).strict()]);

const patchSchema = z
  .object({
    target: z.object({ kind: z.string().min(1), name: z.string().min(1) }).strict(),
    path: z.array(pathStep).min(1),
    /** The new value of the field. */
    value: z.unknown().optional(),
    /** Or: the image key (core/inventory/images.ts) whose pinned reference the field gets. */
    image: z.string().refine(isImageKey, 'not an image key of core/inventory/images.ts').optional(),
    reason: z.string().min(1),
  })
  .strict()
  .refine((p) => (p.value === undefined) !== (p.image === undefined), 'a patch sets either value or image');

const patchFileSchema = z.object({ patches: z.array(patchSchema).min(1) }).strict();

export interface Patch {
  target: { kind: string; name: string };
  path: PathStep[];
  value?: unknown;
  image?: ImageKey;
  reason: string;
}

/** Parsed patch files by path, with the text they were parsed from (a run renders twice). */
const parsedPatchFiles = new Map<string, { text: string; patches: Patch[] }>();

/** Reads and checks a patch list (path relative to workloads/). A malformed file is a packaging error. */
export function loadPatches(relPath: string, root: string): Patch[] {
  const file = join(root, 'workloads', relPath);
  const text = readFileSync(file, 'utf8');
  let parsed = parsedPatchFiles.get(file);
  if (parsed?.text !== text) {
    const result = patchFileSchema.safeParse(yaml.load(text));
    if (!result.success) {
      const issues = result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
      throw new Error(`workloads/${relPath} is not a valid patch list: ${issues}`);
    }
    parsed = { text, patches: result.data.patches as Patch[] };
    parsedPatchFiles.set(file, parsed);
  }
  return structuredClone(parsed.patches);
}

/** `spec.containers[name=controller].image`, for messages. */
export function formatPath(path: readonly PathStep[]): string {
  return path.map((s, i) => (typeof s === 'string' ? `${i === 0 ? '' : '.'}${s}` : `[name=${s.name}]`)).join('');
}

function describe(p: Patch): string {
  return `${p.target.kind}/${p.target.name} ${formatPath(p.path)}`;
}

/** The container (list element) or object that holds the last step of `path`, creating objects for missing keys. */
function parentOf(object: K8sObject, path: PathStep[], where: string): Record<string, unknown> {
  let node: unknown = object;
  for (const step of path.slice(0, -1)) {
    if (typeof step === 'string') {
      const o = node as Record<string, unknown>;
      if (o[step] === undefined) o[step] = {};
      node = o[step];
    } else {
      const hit = Array.isArray(node) ? node.filter((e) => (e as { name?: unknown } | null)?.name === step.name) : [];
      if (hit.length !== 1) throw new Error(`${where}: no single list element named ${step.name}`);
      node = hit[0];
    }
    if (node === null || typeof node !== 'object') throw new Error(`${where}: the path runs through a value that is not an object`);
  }
  return node as Record<string, unknown>;
}

/**
 * The objects with the patches applied. Pure: the objects given are left as they are. Each patch must name exactly
 * one object and a path through it (an upstream change that moves the field fails loudly). An `image` patch checks
 * that the vendored reference is the one images.ts pins by default, then sets the pinned reference after the
 * inventory's overrides (`images`).
 */
export function applyPatches(objects: K8sObject[], patches: Patch[], images: Record<ImageKey, string>): K8sObject[] {
  const defaults = resolveImages({ images: {} });
  const out = objects.map((o) => (patches.some((p) => p.target.kind === o.kind && p.target.name === o.metadata.name) ? structuredClone(o) : o));
  for (const p of patches) {
    const where = `patch ${describe(p)}`;
    const targets = out.filter((o) => o.kind === p.target.kind && o.metadata.name === p.target.name);
    if (targets.length !== 1) throw new Error(`${where}: ${targets.length} objects match, not one`);
    const parent = parentOf(targets[0]!, p.path, where);
    const last = p.path[p.path.length - 1]!;
    if (typeof last !== 'string') throw new Error(`${where}: the path must end at a key`);
    if (p.image !== undefined) {
      if (parent[last] !== defaults[p.image]) {
        throw new Error(`${where}: the vendored manifest names ${String(parent[last])}, but core/inventory/images.ts pins ${defaults[p.image]} for ${p.image}`);
      }
      parent[last] = images[p.image];
    } else {
      parent[last] = structuredClone(p.value);
    }
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;
}

/** Lists whose elements all carry a distinct string `name` are compared by name, others as whole values. */
function byName(list: unknown[]): Map<string, unknown> | undefined {
  const names = list.map((e) => (isPlainObject(e) && typeof e.name === 'string' ? e.name : undefined));
  if (names.some((n) => n === undefined) || new Set(names).size !== names.length) return undefined;
  return new Map(list.map((e, i) => [names[i]!, e]));
}

/**
 * Where `b` differs from `a`: the paths of the leaves that were added, removed or changed. Objects are compared key
 * by key (a missing object counts as empty, so an added block shows as its leaves), lists of named elements by name,
 * other lists as whole values (key order aside). Equal inputs give [].
 */
export function changedPaths(a: unknown, b: unknown, path: PathStep[] = []): PathStep[][] {
  if ((isPlainObject(a) || a === undefined) && (isPlainObject(b) || b === undefined) && (a !== undefined || b !== undefined)) {
    const ao = (a ?? {}) as Record<string, unknown>;
    const bo = (b ?? {}) as Record<string, unknown>;
    const keys = [...new Set([...Object.keys(ao), ...Object.keys(bo)])].sort();
    return keys.flatMap((k) => changedPaths(ao[k], bo[k], [...path, k]));
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    const am = byName(a);
    const bm = byName(b);
    if (am && bm) {
      const names = [...new Set([...am.keys(), ...bm.keys()])].sort();
      return names.flatMap((n) => changedPaths(am.get(n), bm.get(n), [...path, { name: n }]));
    }
  }
  return canonical(a) === canonical(b) ? [] : [path];
}

/** JSON with object keys sorted: a mapping's key order means nothing in YAML, and synthYaml sorts keys. */
function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (isPlainObject(x) ? Object.fromEntries(Object.entries(x).sort(([p], [q]) => (p < q ? -1 : p > q ? 1 : 0))) : x));
}

/** True when `path` is `prefix` or lies below it. */
export function isUnder(path: readonly PathStep[], prefix: readonly PathStep[]): boolean {
  return (
    prefix.length <= path.length &&
    prefix.every((s, i) => {
      const t = path[i];
      return typeof s === 'string' ? s === t : typeof t === 'object' && t.name === s.name;
    })
  );
}
