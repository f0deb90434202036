import { chmod, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type K8sObject, PHASES, PHASE_LABEL, synthYaml } from './render.js';

/**
 * Which file each object goes to when written to a directory: one file per apply phase, numbered in apply order,
 * and every Secret that carries data in `secrets.yaml` (written with mode 0600). Pure.
 */
export function planDirectory(objects: K8sObject[]): Map<string, K8sObject[]> {
  const files = new Map<string, K8sObject[]>();
  const put = (file: string, o: K8sObject) => {
    const list = files.get(file) ?? [];
    list.push(o);
    files.set(file, list);
  };
  for (const o of objects) {
    if (o.kind === 'Secret' && o.data !== undefined) {
      put(SECRETS_FILE, o);
      continue;
    }
    const phase = o.metadata.labels?.[PHASE_LABEL] ?? 'other';
    const index = PHASES.indexOf(phase as (typeof PHASES)[number]);
    put(`${String((index < 0 ? PHASES.length : index) * 10).padStart(2, '0')}-${phase}.yaml`, o);
  }
  return new Map([...files.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export const SECRETS_FILE = 'secrets.yaml';
const OWN_FILE = /^(\d\d-[a-z-]+\.yaml|secrets\.yaml)$/;

/**
 * Writes the rendered objects into `dir` (created if needed) as planned by planDirectory, removes files of an earlier
 * render that are no longer produced (a workload switched off), and returns the paths written.
 */
export async function renderToDirectory(dir: string, objects: K8sObject[]): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const plan = planDirectory(objects);
  const written: string[] = [];
  for (const [file, list] of plan) {
    const path = join(dir, file);
    const secret = file === SECRETS_FILE;
    await writeFile(path, synthYaml(list), { mode: secret ? 0o600 : 0o644 });
    if (secret) await chmod(path, 0o600);
    written.push(path);
  }
  for (const name of await readdir(dir)) {
    if (OWN_FILE.test(name) && !plan.has(name)) await rm(join(dir, name));
  }
  return written;
}
