import yaml from 'js-yaml';
import type { RunResult } from '../../core/remote/transport.js';
import { JOB_INSTALLS_ENV, RELEASE_WORKLOADS, jobInstallsFor } from '../../workloads/monitoring/contract.js';
import { FakeKubectl } from './fake-kubectl.js';
import { FakeTransport, fail, ok } from './fake-transport.js';

/**
 * TEST DOUBLE: a scripted Kubernetes API, for unit tests of workloads/phase.ts. Its reads are a FakeKubectl
 * (`kubectl`: the phase's node list, readiness, managed list, diagnostics, Secrets and Traefik's Service, as typed
 * objects); behind a FakeTransport it answers the commands that change the cluster or print text (apply of an uploaded
 * file, label node, delete) and the fast path's check, which rides in the first server's probe, from the same in-memory object map. Workloads are ready unless a test says
 * otherwise; MetalLB's webhook can be made to refuse the first N pool applies. For each HelmChart it stands in for
 * K3s's helm-controller and the chart: a succeeded helm-install-<chart> Job carrying the spec it installs, and the
 * release's workloads (workloads/monitoring/contract.ts), unless a test says otherwise. It is not kubectl: commands it
 * does not know reach the FakeTransport's "unexpected command" failure.
 */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; generation?: number; [k: string]: unknown };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
  [k: string]: unknown;
}

export class FakeKube {
  readonly objects = new Map<string, KubeObject>();
  /** What each apply saw, in order (file path → printed lines). */
  readonly applies: { path: string; lines: string[] }[] = [];
  readonly deletes: string[] = [];
  readonly labelCommands: string[] = [];
  nodes: Record<string, Record<string, string>>;
  /** Workloads (`Kind/namespace/name`) that never become ready, with a status to show. */
  readonly stuck = new Map<string, Record<string, unknown>>();
  /** Pods and events returned by the diagnostics command. */
  pods: KubeObject[] = [];
  events: Record<string, unknown>[] = [];
  /** The next N applies containing IPAddressPools fail with MetalLB's webhook race. */
  webhookRefusals = 0;
  /** Whether the helm controller has created and finished the helm-install Jobs. */
  helmJobsDone = true;
  /** A helm-install Job's status instead of succeeded, by chart name (helmJobsDone still decides whether it exists). */
  readonly helmJobStatus = new Map<string, Record<string, unknown>>();
  /** A Job's container env instead of the one the chart's current spec gives it, by chart name. */
  readonly helmJobEnv = new Map<string, { name: string; value: string }[]>();
  /**
   * Whether a chart whose Job succeeded runs its release's workloads (workloads/monitoring/contract.ts), ready unless
   * `stuck` says otherwise: what the chart's templates would create. False: an installed release running none of them.
   */
  releasesRun = true;
  /** Kinds whose CRD is not served yet: the next N applies of such objects fail with kubectl's "no matches for kind". */
  crdNotServed = new Map<string, number>();
  /** Make the apply of a file containing this text fail with this stderr. */
  applyFailure?: { contains: string; stderr: string };
  /** How many times the fast path's check (`get <kinds> -A -l … && get nodes,… -A`) ran. */
  fastChecks = 0;
  /** The address MetalLB gave K3s's Traefik Service; unset: there is no such Service. */
  traefikIp?: string;
  /** The phase's reads: typed objects from what this cluster holds now (liveItems). */
  readonly kubectl: FakeKubectl;

  constructor(
    readonly transport: FakeTransport,
    nodes: Record<string, Record<string, string>>,
  ) {
    this.nodes = nodes;
    this.kubectl = new FakeKubectl(transport.nodeName, () => this.liveItems());
    transport
      .on(
        /^\(\nfc=\/run\/revue-pi-fast-check\.\$\$\n\(umask 077; exec k3s kubectl get \S+ -A -l \S+ -o json >\$fc\.1\) & fc_managed=\$!\n\(umask 077; exec k3s kubectl get nodes,deployments\.apps,statefulsets\.apps,daemonsets\.apps,jobs\.batch,services -A -o json >\$fc\.2\) & fc_cluster=\$!\n/,
        (s) => this.fastCheck(s),
      )
      .on(/^k3s kubectl label node /, (s) => this.label(s))
      .on(/^k3s kubectl apply -f /, (s) => this.apply(s))
      .on(/^rm -f /, (s) => {
        this.transport.files.delete(s.slice(6).replace(/'/g, ''));
        return ok();
      })
      .on(/^rc=0\nk3s kubectl delete /, (s) => this.delete(s));
  }

  /**
   * Everything the API would list now: the stored objects, the workloads (applied and of installed releases) with
   * their status, the helm-install Jobs, the nodes, the pods and events a test set, and Traefik's Service.
   */
  liveItems(): unknown[] {
    const workloadKinds = ['Deployment', 'StatefulSet', 'DaemonSet'];
    const stored = [...this.objects.values()].filter((o) => !workloadKinds.includes(o.kind));
    const nodes = Object.entries(this.nodes).map(([name, labels]) => ({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { ...labels } } }));
    return [
      ...nodes,
      ...stored,
      ...this.workloads().map((o) => this.withStatus(o)),
      ...this.helmJobs(),
      ...this.pods.map((p) => ({ ...p, kind: 'Pod' })),
      // An Event lives in the namespace of the object it is about.
      ...this.events.map((e) => ({
        apiVersion: 'v1',
        metadata: { namespace: (e.involvedObject as { namespace?: string } | undefined)?.namespace },
        ...e,
        kind: 'Event',
      })),
      ...(this.traefikIp ? [traefikService(this.traefikIp)] : []),
    ];
  }

  static key(o: { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } }): string {
    const group = o.apiVersion.includes('/') ? o.apiVersion.split('/')[0] : '';
    return `${group}/${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
  }

  kinds(): string[] {
    return [...new Set([...this.objects.values()].map((o) => o.kind))].sort();
  }

  /** `k3s kubectl label node A B … key=value --overwrite` lines joined with ` &&`; stops at the first failure like sh. */
  private label(script: string): RunResult {
    this.labelCommands.push(script);
    let out = '';
    for (const line of script.split(' &&\n')) {
      const m = /^k3s kubectl label node ((?:\S+ )+)'?([^=' ]+)=([^' ]*)'? --overwrite$/.exec(line);
      if (!m) return fail(1, `fake kube: cannot parse ${line}`);
      const names = m[1]!.trim().split(' ');
      const unknown = names.find((n) => !this.nodes[n]);
      if (unknown) return { code: 1, stdout: out, stderr: `Error from server (NotFound): nodes "${unknown}" not found\n` };
      for (const n of names) {
        this.nodes[n]![m[2]!] = m[3]!;
        out += `node/${n} labeled\n`;
      }
    }
    return ok(out);
  }

  private apply(script: string): RunResult {
    const path = /^k3s kubectl apply -f (\S+)/.exec(script)![1]!.replace(/'/g, '');
    const content = this.transport.file(path);
    this.transport.files.delete(path); // the script removes it whatever happens
    if (content === undefined) return fail(1, `error: the path "${path}" does not exist`);
    const docs = yaml.loadAll(content).filter((d): d is KubeObject => !!d);
    if (this.applyFailure && content.includes(this.applyFailure.contains)) return fail(1, this.applyFailure.stderr);
    if (this.webhookRefusals > 0 && docs.some((d) => d.kind === 'IPAddressPool')) {
      this.webhookRefusals--;
      // Like kubectl, the other objects of the file are still applied; the pools are refused.
      const others = this.store(docs.filter((d) => d.kind !== 'IPAddressPool'));
      return fail(
        1,
        'Error from server (InternalError): error when creating "/var/lib/rancher/revue-pi/apply-metallb-config.yaml": Internal error occurred: failed calling webhook "ipaddresspoolvalidationwebhook.metallb.io": failed to call webhook: Post "https://metallb-webhook-service.metallb-system.svc:443/validate-metallb-io-v1beta1-ipaddresspool?timeout=10s": dial tcp 10.43.12.7:443: connect: connection refused\n',
        others.map((l) => `${l}\n`).join(''),
      );
    }
    const unmapped = docs.filter((d) => (this.crdNotServed.get(d.kind) ?? 0) > 0);
    if (unmapped.length > 0) {
      for (const kind of new Set(unmapped.map((d) => d.kind))) this.crdNotServed.set(kind, this.crdNotServed.get(kind)! - 1);
      const others = this.store(docs.filter((d) => !unmapped.includes(d)));
      const stderr = unmapped
        .map(
          (d) =>
            `error: resource mapping not found for name: "${d.metadata.name}" namespace: "${d.metadata.namespace ?? ''}" from "${path}": no matches for kind "${d.kind}" in version "${d.apiVersion}"\nensure CRDs are installed first\n`,
        )
        .join('');
      return fail(1, stderr, others.map((l) => `${l}\n`).join(''));
    }
    const lines = this.store(docs);
    this.applies.push({ path, lines });
    return ok(lines.map((l) => `${l}\n`).join(''));
  }

  private store(docs: KubeObject[]): string[] {
    const lines: string[] = [];
    for (const d of docs) {
      const key = FakeKube.key(d);
      const old = this.objects.get(key);
      const group = d.apiVersion.includes('/') ? `.${d.apiVersion.split('/')[0]}` : '';
      const name = `${d.kind.toLowerCase()}${group}/${d.metadata.name}`;
      const stored: KubeObject = JSON.parse(JSON.stringify(d));
      if (old && JSON.stringify(withoutStatus(old)) === JSON.stringify(withoutStatus(stored))) {
        lines.push(`${name} unchanged`);
        continue;
      }
      stored.metadata.generation = (old?.metadata.generation ?? 0) + 1;
      this.objects.set(key, stored);
      lines.push(`${name} ${old ? 'configured' : 'created'}`);
    }
    return lines;
  }

  /** The managed objects of the listed kinds (one List), then nodes, workloads with their status and Jobs (another). */
  private fastCheck(script: string): RunResult {
    this.fastChecks++;
    const m = /exec k3s kubectl get '?([^' ]+)'? -A -l '?([^' ]+)'? -o json/.exec(script)!;
    const resources = new Set(m[1]!.split(','));
    const [k, v] = m[2]!.split('=');
    const resourceOf = (o: KubeObject) => `${o.kind.toLowerCase()}${o.apiVersion.includes('/') ? `.${o.apiVersion.split('/')[0]}` : ''}`;
    const managed = [...this.objects.values()].filter((o) => resources.has(resourceOf(o)) && o.metadata.labels?.[k!] === v);
    const nodes = Object.entries(this.nodes).map(([name, labels]) => ({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels } }));
    const workloads = this.workloads().map((o) => this.withStatus(o));
    const jobs = this.helmJobs();
    const services = [...this.objects.values()].filter((o) => o.kind === 'Service');
    if (this.traefikIp) services.push(traefikService(this.traefikIp));
    return ok(
      `${JSON.stringify({ kind: 'List', items: managed }, null, 4)}\n${JSON.stringify({ kind: 'List', items: [...nodes, ...workloads, ...jobs, ...services] }, null, 4)}\n`,
    );
  }

  /** The helm-install Job of every stored HelmChart, as K3s's helm-controller makes it (see helmJob). */
  private helmJobs(): KubeObject[] {
    if (!this.helmJobsDone) return [];
    return this.charts().map((c) => {
      const job = helmJob(c);
      const env = this.helmJobEnv.get(c.metadata.name);
      if (env) (job.spec as { template: { spec: { containers: { env: unknown }[] } } }).template.spec.containers[0]!.env = env;
      return { ...job, status: this.helmJobStatus.get(c.metadata.name) ?? job.status };
    });
  }

  /** The workloads revue-pi applied, plus those of the releases whose install Jobs succeeded. */
  private workloads(): KubeObject[] {
    const applied = [...this.objects.values()].filter((o) => ['Deployment', 'StatefulSet', 'DaemonSet'].includes(o.kind));
    const succeeded = this.helmJobs()
      .filter((j) => ((j.status as { succeeded?: number }).succeeded ?? 0) > 0)
      .map((j) => j.metadata.name);
    const releases = this.releasesRun
      ? this.charts()
          .filter((c) => succeeded.includes(`helm-install-${c.metadata.name}`))
          .flatMap((c) => releaseWorkloads(c))
      : [];
    return [...applied, ...releases];
  }

  private charts(): KubeObject[] {
    return [...this.objects.values()].filter((o) => o.kind === 'HelmChart');
  }

  private withStatus(o: KubeObject): KubeObject {
    return { ...o, status: this.stuck.get(`${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`) ?? readyStatus(o) };
  }

  private delete(script: string): RunResult {
    const out: string[] = [];
    for (const line of script.split('\n').filter((l) => l.startsWith('k3s kubectl delete '))) {
      const m = /^k3s kubectl delete (\S+) (\S+)(?: -n (\S+))? --ignore-not-found --wait=false \|\| rc=1$/.exec(line);
      if (!m) return fail(1, `fake kube: cannot parse ${line}`);
      const [, resource, name, ns] = m;
      const hit = [...this.objects.entries()].find(([, o]) => {
        const group = o.apiVersion.includes('/') ? `.${o.apiVersion.split('/')[0]}` : '';
        return `${o.kind.toLowerCase()}${group}` === resource && o.metadata.name === name && (o.metadata.namespace ?? undefined) === (ns ?? undefined);
      });
      this.deletes.push(`${resource} ${ns ? `${ns}/` : ''}${name}`);
      if (hit) {
        this.objects.delete(hit[0]);
        if (hit[1].kind === 'Namespace') for (const [k, o] of this.objects) if (o.metadata.namespace === name) this.objects.delete(k);
        out.push(`${resource} "${name}" deleted`);
      }
    }
    return ok(out.map((l) => `${l}\n`).join(''));
  }
}

/** K3s's own Traefik Service, with the address MetalLB gave it. */
function traefikService(ip: string): KubeObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name: 'traefik', namespace: 'kube-system' }, status: { loadBalancer: { ingress: [{ ip }] } } };
}

function withoutStatus(o: KubeObject): KubeObject {
  const { status: _s, ...rest } = o;
  return { ...rest, metadata: { ...o.metadata, generation: undefined } };
}

/** K3s's install Job for a chart, succeeded, with the env naming the spec it installs (helm-controller v0.17.7 job()). */
function helmJob(chart: KubeObject): KubeObject {
  const installs = jobInstallsFor(chart);
  const env = Object.entries(JOB_INSTALLS_ENV).map(([field, name]) => ({ name, value: installs[field as keyof typeof installs] }));
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: `helm-install-${chart.metadata.name}`, namespace: chart.metadata.namespace ?? 'kube-system' },
    spec: { template: { spec: { containers: [{ name: 'helm', env: [{ name: 'NAME', value: chart.metadata.name }, ...env] }] } } },
    status: { succeeded: 1, conditions: [{ type: 'Complete', status: 'True' }] },
  };
}

/** What a known chart's release runs (workloads/monitoring/contract.ts), in its target namespace. */
function releaseWorkloads(chart: KubeObject): KubeObject[] {
  const release = Object.values(RELEASE_WORKLOADS).find((r) => r.release === chart.metadata.name);
  const namespace = jobInstallsFor(chart).targetNamespace;
  return (release?.workloads ?? []).map((w) => ({
    apiVersion: 'apps/v1',
    kind: w.kind,
    metadata: { name: w.name, namespace, generation: 1 },
    spec: w.kind === 'DaemonSet' ? {} : { replicas: 1 },
  }));
}

function readyStatus(o: KubeObject): Record<string, unknown> {
  const generation = o.metadata.generation ?? 1;
  const replicas = (o.spec as { replicas?: number } | undefined)?.replicas ?? 1;
  if (o.kind === 'DaemonSet')
    return { observedGeneration: generation, desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberReady: 3, numberAvailable: 3 };
  return { observedGeneration: generation, replicas, updatedReplicas: replicas, readyReplicas: replicas, availableReplicas: replicas };
}
