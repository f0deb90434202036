import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import yaml from 'js-yaml';
import { z } from 'zod';
import { type K8sObject, objectsOfPhase, packageRoot, podSpecOf, renderWorkloads } from '../../../workloads/render.js';
import { labInventory } from './helpers.js';

/**
 * The rendered MetalLB objects against workloads/metallb/contract.yaml: what MetalLB v0.16.1's controller and speaker
 * read, serve and call, written down from their source. Each check collects every offender.
 */

const sources = z.array(z.string().min(1)).min(1);
const probe = z.object({ bind: z.string(), port: z.number().int(), liveness: z.string(), readiness: z.string(), sources }).strict();
const contractSchema = z
  .object({
    upstream: z.object({ repository: z.string().url(), tag: z.literal('v0.16.1'), commit: z.string().regex(/^[0-9a-f]{40}$/) }).strict(),
    namespace: z.object({ name: z.string(), sources }).strict(),
    webhook: z
      .object({
        service: z.string(),
        servicePort: z.number().int(),
        containerPort: z.number().int(),
        secret: z.string(),
        certDir: z.string(),
        paths: z.array(z.string().startsWith('/')).min(1),
        sources,
      })
      .strict(),
    caInjection: z.object({ validatingWebhookConfiguration: z.string(), conversionCRDs: z.array(z.string()).min(1), sources }).strict(),
    probes: z.object({ controller: probe, speaker: probe }).strict(),
    memberlist: z
      .object({
        secretKey: z.string(),
        controllerEnv: z.object({ secretName: z.string(), deployment: z.string() }).strict(),
        speakerEnv: z.object({ keyPath: z.string(), labels: z.string(), bindAddress: z.string() }).strict(),
        sources,
      })
      .strict(),
    excludeL2: z.object({ path: z.string(), sources }).strict(),
  })
  .strict();

const contract = contractSchema.parse(yaml.load(readFileSync(join(packageRoot(), 'workloads', 'metallb', 'contract.yaml'), 'utf8')));

interface Container {
  name: string;
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: unknown }[];
  ports?: { name?: string; containerPort: number }[];
  volumeMounts?: { name: string; mountPath: string; subPath?: string }[];
  livenessProbe?: { httpGet?: Record<string, unknown> };
  readinessProbe?: { httpGet?: Record<string, unknown> };
}
interface Volume {
  name: string;
  secret?: { secretName: string };
  configMap?: { name: string };
}

/** The checks, as a function of the rendered objects, so they can be shown to fail on a broken render. */
function contractProblems(rendered: K8sObject[]): string[] {
  const problems: string[] = [];
  const ns = contract.namespace.name;
  const find = (kind: string, name: string, namespace?: string) =>
    rendered.find((o) => o.kind === kind && o.metadata.name === name && (namespace === undefined || o.metadata.namespace === namespace));
  const component = (kind: string, name: string) => {
    const owner = find(kind, name, ns);
    const pod = owner && podSpecOf(owner);
    const container = pod?.containers.find((c) => c.name === name) as Container | undefined;
    if (!owner || !pod || !container) problems.push(`no ${kind} ${ns}/${name} with a container ${name}`);
    return { owner, pod, container, labels: ((owner?.spec as any)?.template?.metadata?.labels ?? {}) as Record<string, string> };
  };
  const controller = component('Deployment', 'controller');
  const speaker = component('DaemonSet', 'speaker');
  const env = (c: Container | undefined, name: string) => c?.env?.find((e) => e.name === name);
  const flag = (c: Container | undefined, name: string) => c?.args?.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  /** A flag the contract relies on at its default must not be set to something else. */
  const keepsDefault = (c: Container | undefined, who: string, name: string, value: string) => {
    const set = flag(c, name);
    if (set !== undefined && set !== value) problems.push(`${who}: --${name}=${set}, but the contract relies on ${value}`);
  };
  const mountOf = (pod: ReturnType<typeof podSpecOf>, c: Container | undefined, path: string) => {
    const mount = c?.volumeMounts?.find((m) => m.mountPath === path);
    return mount && ((pod?.volumes ?? []) as Volume[]).find((v) => v.name === mount.name);
  };

  // The namespace the controller works in (it sets no --namespace/METALLB_NAMESPACE: its service account's).
  for (const [who, c] of [
    ['controller', controller.container],
    ['speaker', speaker.container],
  ] as const) {
    const set = flag(c, 'namespace') ?? env(c, 'METALLB_NAMESPACE')?.value;
    if (set !== undefined && set !== ns) problems.push(`${who}: namespace set to ${set}, not ${ns}`);
  }
  for (const o of objectsOfPhase(rendered, 'metallb-config')) {
    if (o.metadata.namespace !== ns) problems.push(`${o.kind} ${o.metadata.name} is in ${o.metadata.namespace}: the controller only watches ${ns}`);
  }

  // The webhook: Service → controller pod port, certificate Secret mounted where the server reads it.
  const { webhook } = contract;
  keepsDefault(controller.container, 'controller', 'cert-service-name', webhook.service);
  keepsDefault(controller.container, 'controller', 'webhook-secret', webhook.secret);
  keepsDefault(controller.container, 'controller', 'cert-dir', webhook.certDir);
  if (!controller.container?.ports?.some((p) => p.containerPort === webhook.containerPort))
    problems.push(`controller: no containerPort ${webhook.containerPort}`);
  const service = find('Service', webhook.service, ns);
  const servicePort = (service?.spec as any)?.ports?.find((p: { port: number }) => p.port === webhook.servicePort);
  const target = servicePort?.targetPort;
  const targetNumber = typeof target === 'string' ? controller.container?.ports?.find((p) => p.name === target)?.containerPort : target;
  if (targetNumber !== webhook.containerPort)
    problems.push(`Service ${ns}/${webhook.service}: port ${webhook.servicePort} does not reach ${webhook.containerPort}`);
  const selector = ((service?.spec as any)?.selector ?? {}) as Record<string, string>;
  if (!service || !Object.entries(selector).every(([k, v]) => controller.labels[k] === v))
    problems.push(`Service ${ns}/${webhook.service} does not select the controller`);
  if (!find('Secret', webhook.secret, ns)) problems.push(`no Secret ${ns}/${webhook.secret} (the cert rotator reads it and never creates it)`);
  if (mountOf(controller.pod, controller.container, webhook.certDir)?.secret?.secretName !== webhook.secret)
    problems.push(`controller: Secret ${webhook.secret} not mounted at ${webhook.certDir}`);

  // Every client of the webhook calls that Service, on a path the server registers.
  const checkClient = (who: string, clientConfig: any) => {
    const s = clientConfig?.service;
    if (s?.name !== webhook.service || s?.namespace !== ns || (s?.port ?? 443) !== webhook.servicePort || !webhook.paths.includes(s?.path)) {
      problems.push(`${who}: calls ${JSON.stringify(s)}, not ${webhook.service}.${ns}:${webhook.servicePort} on a path the controller serves`);
    }
  };
  const vwc = find('ValidatingWebhookConfiguration', contract.caInjection.validatingWebhookConfiguration);
  if (!vwc) problems.push(`no ValidatingWebhookConfiguration ${contract.caInjection.validatingWebhookConfiguration} (the cert rotator injects its CA into it)`);
  for (const w of (vwc?.webhooks ?? []) as { name: string; clientConfig: unknown }[]) checkClient(`webhook ${w.name}`, w.clientConfig);
  for (const name of contract.caInjection.conversionCRDs) {
    const conversion = (find('CustomResourceDefinition', name)?.spec as any)?.conversion;
    if (conversion?.strategy !== 'Webhook' || !conversion?.webhook?.clientConfig) {
      problems.push(`CRD ${name}: no conversion webhook clientConfig, so the cert rotator cannot inject its CA and the webhook never starts`);
    } else checkClient(`CRD ${name} conversion`, conversion.webhook.clientConfig);
  }

  // Probes: where each program listens for them.
  for (const [who, c, pod] of [
    ['controller', controller.container, controller.pod],
    ['speaker', speaker.container, speaker.pod],
  ] as const) {
    const p = contract.probes[who];
    keepsDefault(c, who, 'health-probe-port', String(p.port));
    const wantHost = p.bind === '' ? undefined : p.bind;
    if (wantHost !== undefined && pod?.hostNetwork !== true)
      problems.push(`${who}: listens on ${p.bind} only, reachable by the kubelet only on the host network`);
    for (const [kind, path] of [
      ['livenessProbe', p.liveness],
      ['readinessProbe', p.readiness],
    ] as const) {
      const get = c?.[kind]?.httpGet;
      if (get?.port !== p.port || get?.path !== path || get?.host !== wantHost || (get?.scheme ?? 'HTTP') !== 'HTTP') {
        const asks = get
          ? `${String(get.scheme ?? 'HTTP').toLowerCase()}://${String(get.host ?? '<pod IP>')}:${String(get.port)}${String(get.path)}`
          : 'nothing';
        problems.push(`${who} ${kind}: asks ${asks}, but it serves http://${p.bind || '<pod IP>'}:${p.port}${path}`);
      }
    }
  }

  // Memberlist: the Secret the controller creates is the one each speaker mounts; speakers find each other.
  const { memberlist } = contract;
  const secretName = env(controller.container, memberlist.controllerEnv.secretName)?.value;
  const keyPath = env(speaker.container, memberlist.speakerEnv.keyPath)?.value;
  if (!secretName || !keyPath || mountOf(speaker.pod, speaker.container, keyPath)?.secret?.secretName !== secretName) {
    problems.push(`speaker: does not mount the memberlist Secret the controller creates (${secretName}) at ${keyPath}`);
  }
  if (env(controller.container, memberlist.controllerEnv.deployment)?.value !== controller.owner?.metadata.name)
    problems.push(`controller: ${memberlist.controllerEnv.deployment} does not name its Deployment`);
  const mlLabels = (env(speaker.container, memberlist.speakerEnv.labels)?.value ?? '')
    .split(',')
    .filter(Boolean)
    .map((kv) => kv.split('='));
  if (mlLabels.length === 0 || !mlLabels.every(([k, v]) => speaker.labels[k!] === v))
    problems.push(`speaker: ${memberlist.speakerEnv.labels} does not select the speaker pods`);
  const bind = env(speaker.container, memberlist.speakerEnv.bindAddress);
  if (!bind?.value && !bind?.valueFrom) problems.push(`speaker: no ${memberlist.speakerEnv.bindAddress}, memberlist would not start`);

  // The excluded-interfaces file is a ConfigMap key mounted where the speaker reads it.
  const excludeVolume = mountOf(speaker.pod, speaker.container, dirname(contract.excludeL2.path));
  const excludeMap = excludeVolume?.configMap && find('ConfigMap', excludeVolume.configMap.name, ns);
  if (!(basename(contract.excludeL2.path) in ((excludeMap as any)?.data ?? {})))
    problems.push(`speaker: ${contract.excludeL2.path} is not mounted from a ConfigMap`);

  return problems;
}

const rendered = renderWorkloads(labInventory(), { secrets: 'references' });

describe('MetalLB v0.16.1 contract (workloads/metallb/contract.yaml)', () => {
  it('every fact names where in the source it was read', () => {
    for (const part of [
      contract.namespace,
      contract.webhook,
      contract.caInjection,
      contract.probes.controller,
      contract.probes.speaker,
      contract.memberlist,
      contract.excludeL2,
    ]) {
      for (const s of part.sources) expect(s).toMatch(/^((cert-controller|controller-runtime) )?[\w./*-]+\.go:\d|^Kubernetes /);
    }
  });

  it('the rendered MetalLB objects satisfy it', () => {
    expect(contractProblems(rendered)).toEqual([]);
  });

  it('names what breaks: the missing conversion stanza and the controller probe host of issue 13', () => {
    const broken = structuredClone(rendered);
    delete (broken.find((o) => o.metadata.name === 'bgppeers.metallb.io')!.spec as Record<string, unknown>).conversion;
    const c = podSpecOf(broken.find((o) => o.kind === 'Deployment' && o.metadata.name === 'controller')!)!.containers[0] as any;
    c.livenessProbe.httpGet.host = '127.0.0.1';
    c.readinessProbe.httpGet.host = '127.0.0.1';
    expect(contractProblems(broken)).toEqual([
      'CRD bgppeers.metallb.io: no conversion webhook clientConfig, so the cert rotator cannot inject its CA and the webhook never starts',
      'controller livenessProbe: asks http://127.0.0.1:17472/healthz, but it serves http://<pod IP>:17472/healthz',
      'controller readinessProbe: asks http://127.0.0.1:17472/readyz, but it serves http://<pod IP>:17472/readyz',
    ]);
  });

  it.each([
    [
      'a pool outside the namespace',
      (o: K8sObject) => o.kind === 'IPAddressPool' && (o.metadata.namespace = 'default'),
      /IPAddressPool .* is in default: the controller only watches metallb-system/,
    ],
    [
      'a webhook calling another Service',
      (o: K8sObject) => o.kind === 'ValidatingWebhookConfiguration' && ((o.webhooks as any)[0].clientConfig.service.name = 'other'),
      /webhook bgppeersvalidationwebhook\.metallb\.io: calls/,
    ],
    [
      'the speaker probing the pod IP',
      (o: K8sObject) => o.kind === 'DaemonSet' && delete (podSpecOf(o)!.containers[0] as any).livenessProbe.httpGet.host,
      /speaker livenessProbe/,
    ],
    ['no webhook Secret', (o: K8sObject) => o.kind === 'Secret' && (o.metadata.name = 'renamed'), /no Secret metallb-system\/metallb-webhook-cert/],
    [
      'the memberlist Secret not mounted',
      (o: K8sObject) => o.kind === 'DaemonSet' && ((podSpecOf(o)!.volumes as Volume[]).find((v) => v.name === 'memberlist')!.secret!.secretName = 'x'),
      /memberlist Secret/,
    ],
    [
      'the excluded interfaces missing',
      (o: K8sObject) => o.kind === 'ConfigMap' && o.metadata.name === 'metallb-excludel2' && (o.data = {}),
      /excludel2\.yaml is not mounted/,
    ],
  ] as [string, (o: K8sObject) => unknown, RegExp][])('fails on %s', (_what, breakIt, message) => {
    const broken = structuredClone(rendered);
    broken.forEach(breakIt);
    expect(contractProblems(broken).join('\n')).toMatch(message);
  });
});
