/** Loading the bundled data files under workloads/ (parsed YAML, cached per file). */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
import { RevuePiError } from '../core/errors.js';
import type { K8sObject } from './objects.js';

/**
 * The folder holding the package's package.json, found by walking up from `from` — works from the sources
 * (workloads/manifests.ts under vitest/tsx) and from the bundle (dist/revue-pi.js), which ships workloads/**.yaml.
 */
export function packageRoot(from: string = import.meta.url): string {
  let dir = dirname(from.startsWith('file:') ? fileURLToPath(from) : from);
  for (;;) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate)) {
      try {
        const name = (JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string }).name;
        if (name === 'revue-pi' && existsSync(join(dir, 'workloads'))) return dir;
      } catch {
        // not ours; keep walking
      }
    }
    const parent = dirname(dir);
    if (parent === dir) {
      throw new RevuePiError(`Could not find the revue-pi package (with its workloads/ folder) above ${from}.`, {
        code: 'INSTALL',
        hint: 'Reinstall revue-pi; the package must ship workloads/**/*.yaml next to dist/.',
      });
    }
    dir = parent;
  }
}

/** Parsed manifest files by path, with the text they were parsed from: a run renders twice (probe, then apply). */
const parsedManifests = new Map<string, { text: string; objects: K8sObject[] }>();

/** Parses one multi-document YAML data file under workloads/ (path relative to workloads/). */
export function loadManifestFile(relPath: string, root: string = packageRoot()): K8sObject[] {
  const file = join(root, 'workloads', relPath);
  const text = readFileSync(file, 'utf8');
  let parsed = parsedManifests.get(file);
  if (parsed?.text !== text) {
    const objects: K8sObject[] = [];
    for (const doc of yaml.loadAll(text)) {
      if (doc === null || doc === undefined) continue;
      if (!isK8sObject(doc)) throw new Error(`workloads/${relPath} holds a document that is not a Kubernetes object`);
      objects.push(doc);
    }
    parsed = { text, objects };
    parsedManifests.set(file, parsed);
  }
  // A copy each time: the render changes the objects it is given.
  return structuredClone(parsed.objects);
}

function isK8sObject(doc: unknown): doc is K8sObject {
  if (typeof doc !== 'object' || doc === null) return false;
  const o = doc as Record<string, unknown>;
  const meta = o.metadata as Record<string, unknown> | undefined;
  return typeof o.apiVersion === 'string' && typeof o.kind === 'string' && typeof meta?.name === 'string';
}
