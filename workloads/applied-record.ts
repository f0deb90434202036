import { createHash } from 'node:crypto';
import { z } from 'zod';
import { objectKey, refOf, type ObjectRef } from './prune.js';
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE, PHASES, canonicalJson, objectsOfPhase, synthYaml, type K8sObject, type Phase } from './render.js';

/**
 * The record of what revue-pi applied, kept in the ConfigMap kube-system/revue-pi-applied after a fully successful
 * `up`: per phase the sha256 of the objects applied, revue-pi's version and the objects' names. Pure: how it is made
 * from a render, written as a ConfigMap and read back. fastpath.ts compares it with the render to skip a no-op run.
 */

export const APPLIED_RECORD = { namespace: 'kube-system', name: 'revue-pi-applied' } as const;

export function appliedRecordRef(): ObjectRef {
  return { apiVersion: 'v1', kind: 'ConfigMap', namespace: APPLIED_RECORD.namespace, name: APPLIED_RECORD.name };
}

/** The record is revue-pi's (managed-by label) but never pruned: it describes the render, it is not part of it. */
export function isAppliedRecord(ref: Pick<ObjectRef, 'kind' | 'namespace' | 'name'>): boolean {
  return ref.kind === 'ConfigMap' && ref.namespace === APPLIED_RECORD.namespace && ref.name === APPLIED_RECORD.name;
}

export interface AppliedRecord {
  /** revue-pi's version that applied (another version re-applies: its manifests may mean other things). */
  version: string;
  /** Per phase with objects: sha256 (hex) of the YAML applied, exactly as uploaded. */
  phases: Partial<Record<Phase, string>>;
  /** The applied objects, `group/Kind/namespace/name`, sorted. */
  objects: string[];
}

export function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * Per phase with objects, the sha256 of what the full path applies for it: its objects in order, one canonical JSON
 * line each (the same content as their YAML, made several times quicker; a converged re-run hashes every phase).
 */
export function phaseHashes(objects: K8sObject[]): Partial<Record<Phase, string>> {
  const out: Partial<Record<Phase, string>> = {};
  for (const phase of PHASES) {
    const list = objectsOfPhase(objects, phase);
    if (list.length > 0) out[phase] = sha256(list.map((o) => `${canonicalJson(o)}\n`).join(''));
  }
  return out;
}

/** The record of a render, for the version given. */
export function appliedRecordOf(objects: K8sObject[], version: string): AppliedRecord {
  return { version, phases: phaseHashes(objects), objects: objects.map((o) => objectKey(refOf(o))).sort() };
}

/** The ConfigMap holding a record (one key per field; JSON or one line per object). */
export function renderAppliedRecord(record: AppliedRecord): K8sObject {
  const phases = Object.fromEntries(PHASES.filter((p) => record.phases[p] !== undefined).map((p) => [p, record.phases[p]!]));
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: APPLIED_RECORD.name,
      namespace: APPLIED_RECORD.namespace,
      labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE },
      annotations: {
        'revue-pi.io/note': 'What revue-pi applied last (hashes of the YAML per phase); up skips applying while it matches. Delete it to force a full apply.',
      },
    },
    data: { version: record.version, phases: JSON.stringify(phases), objects: record.objects.join('\n') },
  };
}

/** The record's `phases`: a hash (text) per phase name, nothing else. */
const PhaseHashesSchema = z.record(z.enum(PHASES), z.string());

/** The record in a live ConfigMap, or undefined when it is not one revue-pi wrote (missing or malformed fields). */
export function parseAppliedRecord(item: { data?: Record<string, string> } | undefined): AppliedRecord | undefined {
  const data = item?.data;
  if (data?.version === undefined || data.phases === undefined || data.objects === undefined) return undefined;
  let phases: unknown;
  try {
    phases = JSON.parse(data.phases);
  } catch {
    return undefined;
  }
  const checked = PhaseHashesSchema.safeParse(phases);
  if (!checked.success) return undefined;
  return { version: data.version, phases: checked.data, objects: data.objects.split('\n').filter(Boolean) };
}

/** The YAML file content that creates/updates the record (uploaded and applied like a phase; it holds no secret). */
export function synthAppliedRecord(record: AppliedRecord): string {
  return synthYaml([renderAppliedRecord(record)]);
}
