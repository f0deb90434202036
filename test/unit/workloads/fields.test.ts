import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import ts from 'typescript';
import { deterministicRandom } from '../../fakes/deterministic-random.js';
import { type K8sObject, packageRoot, renderWorkloads } from '../../../workloads/render.js';
import { generateWorkloadSecrets } from '../../../workloads/secrets.js';
import { labInventory } from './helpers.js';

/**
 * Unknown-field check for the core kinds. kubernetes-models' validate() checks types and required fields but lets
 * unknown fields through (the API server then rejects or prunes them: a typo such as `publishNotReadyAddress` would
 * silently do nothing). Its TypeScript declarations, generated from the same OpenAPI spec, name every field; the
 * TypeScript checker walks each rendered object along them. Custom resources get the same check in schema.test.ts
 * (their CRD schemas with unknown fields closed).
 */

const CORE_KINDS: Record<string, string> = {
  Namespace: 'v1',
  ServiceAccount: 'v1',
  Secret: 'v1',
  ConfigMap: 'v1',
  PersistentVolumeClaim: 'v1',
  Service: 'v1',
  Deployment: 'apps/v1',
  DaemonSet: 'apps/v1',
  HorizontalPodAutoscaler: 'autoscaling/v2',
  Role: 'rbac.authorization.k8s.io/v1',
  ClusterRole: 'rbac.authorization.k8s.io/v1',
  RoleBinding: 'rbac.authorization.k8s.io/v1',
  ClusterRoleBinding: 'rbac.authorization.k8s.io/v1',
  ValidatingWebhookConfiguration: 'admissionregistration.k8s.io/v1',
  CustomResourceDefinition: 'apiextensions.k8s.io/v1',
};

function typeChecker(): { checker: ts.TypeChecker; kinds: Map<string, ts.Type> } {
  const root = packageRoot();
  const virtual = join(root, 'test', 'unit', 'workloads', '__core-kinds__.ts');
  const source =
    Object.entries(CORE_KINDS)
      .map(([kind, apiVersion]) => `import type { I${kind} } from 'kubernetes-models/${apiVersion}';`)
      .join('\n') +
    `\nexport interface Kinds {\n${Object.keys(CORE_KINDS)
      .map((k) => `  ${k}: I${k};`)
      .join('\n')}\n}\n`;
  const options: ts.CompilerOptions = {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    strict: true,
    skipLibCheck: true,
    noEmit: true,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, lang, ...rest) => (name === virtual ? ts.createSourceFile(name, source, lang) : getSourceFile(name, lang, ...rest));
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => name === virtual || fileExists(name);
  const program = ts.createProgram([virtual], options, host);
  const checker = program.getTypeChecker();
  const file = program.getSourceFile(virtual)!;
  const problems = ts.getPreEmitDiagnostics(program, file).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  if (problems.length > 0) throw new Error(`kubernetes-models types did not load: ${problems.join('; ')}`);
  const kindsDecl = file.statements.find((s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === 'Kinds')!;
  const kindsType = checker.getTypeAtLocation(kindsDecl);
  const kinds = new Map<string, ts.Type>();
  for (const k of Object.keys(CORE_KINDS)) kinds.set(k, checker.getTypeOfSymbol(kindsType.getProperty(k)!));
  return { checker, kinds };
}

function unknownFields(checker: ts.TypeChecker, value: unknown, type: ts.Type, path: string, out: string[]): void {
  const t = checker.getNonNullableType(type);
  const members = t.isUnion() ? t.types : [t];
  if (Array.isArray(value)) {
    const arrays = members.filter((m) => checker.isArrayType(m));
    if (arrays.length === 0) return;
    const element = checker.getTypeArguments(arrays[0] as ts.TypeReference)[0]!;
    value.forEach((v, i) => unknownFields(checker, v, element, `${path}[${i}]`, out));
    return;
  }
  if (value === null || typeof value !== 'object') return;
  const objects = members.filter((m) => (m.flags & ts.TypeFlags.Object) !== 0 && !checker.isArrayType(m));
  if (objects.length === 0) return;
  // Generated placeholders such as JSONSchemaPropsOrArray are empty interfaces: nothing to check against.
  if (objects.every((m) => checker.getPropertiesOfType(m).length === 0 && !checker.getIndexInfoOfType(m, ts.IndexKind.String))) return;
  for (const [key, v] of Object.entries(value)) {
    const prop = objects.map((m) => m.getProperty(key)).find(Boolean);
    if (prop) {
      unknownFields(checker, v, checker.getTypeOfSymbol(prop), `${path}.${key}`, out);
      continue;
    }
    const index = objects.map((m) => checker.getIndexInfoOfType(m, ts.IndexKind.String)).find(Boolean);
    if (index) {
      unknownFields(checker, v, index.type, `${path}.${key}`, out);
      continue;
    }
    out.push(`${path}.${key}`);
  }
}

describe('no unknown fields in the core kinds', () => {
  const { checker, kinds } = typeChecker();
  const check = (o: K8sObject): string[] => {
    const type = kinds.get(o.kind);
    if (!type) return [`no type for ${o.kind}`];
    const out: string[] = [];
    unknownFields(checker, o, type, `${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`, out);
    return out;
  };

  it('every core object of the full render uses only fields its type declares', () => {
    const objects = renderWorkloads(labInventory(), { secrets: generateWorkloadSecrets(deterministicRandom('fields')) });
    const core = objects.filter((o) => CORE_KINDS[o.kind] !== undefined);
    expect(core.length).toBeGreaterThan(80);
    // Every object is either a core kind checked here or a custom resource checked against its CRD.
    expect(
      objects
        .filter((o) => !CORE_KINDS[o.kind])
        .map((o) => o.kind)
        .sort(),
    ).toEqual(
      [
        'HelmChart',
        'HelmChart',
        'HelmChartConfig',
        'IPAddressPool',
        'IPAddressPool',
        'IPAddressPool',
        'IngressRoute',
        'IngressRoute',
        'IngressRoute',
        'L2Advertisement',
      ].sort(),
    );
    expect(core.flatMap(check)).toEqual([]);
  });

  it('catches a misspelt field, nested deep (so a pass means something)', () => {
    const svc: K8sObject = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 's' },
      spec: { publishNotReadyAddress: true, ports: [{ port: 1, targetPort: 'x' }] },
    };
    expect(check(svc)).toEqual(['Service /s.spec.publishNotReadyAddress']);
    const dep: K8sObject = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'd', labels: { 'any-label': 'ok' } },
      spec: {
        selector: {},
        template: { spec: { containers: [{ name: 'c', image: 'i:1', env: [{ name: 'A', valueFrom: { secretKeyRef: { name: 's', kee: 'k' } } }] }] } },
      },
    };
    expect(check(dep)).toEqual(['Deployment /d.spec.template.spec.containers[0].env[0].valueFrom.secretKeyRef.kee']);
  });
});
