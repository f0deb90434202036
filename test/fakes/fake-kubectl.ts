import { KubectlError, parseKubeItem, parseKubeList, type KubeItem, type KubeQuery, type Kubectl, type KubectlCallOptions } from '../../core/kube/index.js';

/**
 * TEST DOUBLE of the Kubectl interface (core/kube/kubectl.ts), for unit tests of code that reads the cluster: no
 * Kubernetes API can run here. It answers every get from typed objects (checked by the same schemas as kubectl's real
 * answers, so a test cannot hand the code an object kubectl's parsing would refuse), filtered by type, namespace and
 * label selector, and records each query. A test scripts failures by type (`fail`), or text printed instead of a
 * List (`print`, read by the real parser). The real RemoteKubectl and
 * LocalKubectl run against the lab's stand-in K3s in the integration tests.
 */
export class FakeKubectl implements Kubectl {
  /** Every get, in order (getEach records each of its queries). */
  readonly queries: KubeQuery[] = [];
  /** Every getObject: `resource namespace/name`. */
  readonly objectGets: string[] = [];
  private readonly failures: { resource: string | undefined; code: number; output: string; printed?: boolean; times: number | undefined }[] = [];
  private readonly source: () => readonly unknown[];

  /** `items`: the objects in the cluster, or a function giving them at each read (a cluster that changes). */
  constructor(
    readonly where: string,
    items: readonly KubeItem[] | (() => readonly unknown[]) = [],
  ) {
    this.source = typeof items === 'function' ? items : () => items;
  }

  /** Makes gets naming `resource` (any get when undefined) fail as kubectl does: exit `code`, printing `output`. */
  fail(resource: string | undefined, code: number, output: string, opts: { times?: number } = {}): this {
    this.failures.push({ resource, code, output, times: opts.times });
    return this;
  }

  /** Makes gets naming `resource` (any when undefined) answer with exit 0 and this text, read by the real parser. */
  print(resource: string | undefined, text: string, opts: { times?: number } = {}): this {
    this.failures.push({ resource, code: 0, output: text, printed: true, times: opts.times });
    return this;
  }

  /** The objects now, each checked by its kind's schema. */
  items(): KubeItem[] {
    return this.source().map((raw, index) => parseKubeItem(raw, { command: `FakeKubectl(${this.where})`, index }));
  }

  async get(query: KubeQuery, _opts?: KubectlCallOptions): Promise<KubeItem[]> {
    this.queries.push(query);
    const command = `k3s kubectl get ${query.resources.join(',')}${query.allNamespaces ? ' -A' : ''} -o json`;
    const failure = this.failures.find((f) => (f.times === undefined || f.times > 0) && (!f.resource || query.resources.includes(f.resource)));
    if (failure) {
      if (failure.times !== undefined) failure.times--;
      if (failure.printed) return parseKubeList(failure.output, { command });
      throw new KubectlError(command, this.where, failure.code, failure.output);
    }
    const [key, value] = query.selector ? query.selector.split('=') : [];
    // Every CRD is served here: types listed only when served are listed.
    const resources = [...query.resources, ...(query.ifServed ?? []).map((t) => t.resource)];
    return this.items().filter(
      (i) =>
        resources.some((r) => resourceNames(r, i)) &&
        (query.namespace === undefined || i.metadata?.namespace === query.namespace) &&
        (key === undefined || i.metadata?.labels?.[key] === value),
    );
  }

  async getEach(queries: readonly KubeQuery[], opts?: KubectlCallOptions): Promise<KubeItem[][]> {
    const out: KubeItem[][] = [];
    for (const q of queries) out.push(await this.get(q, opts));
    return out;
  }

  async getObject(resource: string, name: string, opts: KubectlCallOptions & { namespace?: string } = {}): Promise<KubeItem | undefined> {
    this.objectGets.push(`${resource} ${opts.namespace ? `${opts.namespace}/` : ''}${name}`);
    const [found] = await this.get({ resources: [resource], ...(opts.namespace !== undefined ? { namespace: opts.namespace } : {}) }).then((items) =>
      items.filter((i) => i.metadata?.name === name),
    );
    return found;
  }
}

/** Whether kubectl's type word (`nodes`, `deployments.apps`, `secret`, `ingresses.networking.k8s.io`) names the item's kind and group. */
function resourceNames(resource: string, item: KubeItem): boolean {
  const [word, ...group] = resource.toLowerCase().split('.');
  const kind = item.kind.toLowerCase();
  const itemGroup = item.apiVersion?.includes('/') ? item.apiVersion.split('/')[0] : '';
  const groupMatches = group.length === 0 || item.apiVersion === undefined || group.join('.') === itemGroup;
  return groupMatches && (word === kind || word === `${kind}s` || word === `${kind}es`);
}
