import { execFile } from 'node:child_process';
import { trimOutput } from '../errors.js';
import { joinShell, sh, type ShellScript } from '../remote/shell.js';
import type { Transport } from '../remote/transport.js';
import { commandLabel, parseJson, parseKubeItem, parseKubeList, splitJsonDocuments } from './parse.js';
import type { KnownKind, KubeItem } from './schemas.js';

/**
 * The one way revue-pi reads the Kubernetes API: `kubectl get … -o json`, answered as typed objects (schemas.ts).
 * On a server through its transport (`k3s kubectl` under sudo: the laptop never needs to reach the API), or with the
 * local kubectl and a kubeconfig context (`status`). Unit tests use the test double FakeKubectl (test/fakes/).
 */

export interface KubeQuery {
  /** Resource types as kubectl takes them: `nodes`, `deployments.apps`, `ipaddresspools.metallb.io`. */
  resources: readonly string[];
  /** One namespace (`-n`); without it and without allNamespaces, kubectl's default namespace (or cluster-scoped types). */
  namespace?: string;
  /** `-A`: every namespace. */
  allNamespaces?: boolean;
  /** `-l key=value`. */
  selector?: string;
  /** `--request-timeout=Ns`: how long kubectl waits for the API. */
  requestTimeoutSeconds?: number;
  /** The kind of a one-type list's items, for items that do not name it. */
  kind?: KnownKind;
  /**
   * Types added by a CRD that may not be installed: listed only when their CRD exists (kubectl refuses a whole get
   * naming an unknown type). `crd` is the CRD's name, e.g. `ipaddresspools.metallb.io`.
   */
  ifServed?: readonly { resource: string; crd: string }[];
}

export interface KubectlCallOptions {
  /** Bound of the whole call (the transport's timeout; the process's for a local kubectl). */
  timeoutMs?: number;
}

export interface Kubectl {
  /** Where the API is read: the server's name, or `kubeconfig:<context>`. */
  readonly where: string;
  /** One `kubectl get … -o json`. Rejects with KubectlError when kubectl fails, KubeOutputError when its answer does not fit. */
  get(query: KubeQuery, opts?: KubectlCallOptions): Promise<KubeItem[]>;
  /** Several gets in one round trip, one array of items per query, in order. */
  getEach(queries: readonly KubeQuery[], opts?: KubectlCallOptions): Promise<KubeItem[][]>;
  /** One object by name; undefined when kubectl says it is not found. */
  getObject(resource: string, name: string, opts?: KubectlCallOptions & { namespace?: string }): Promise<KubeItem | undefined>;
}

/** `kubectl get nodes -o json`: every node object (cluster-scoped). */
export const NODE_LIST_QUERY: KubeQuery = { resources: ['nodes'], kind: 'Node' };

/** kubectl exited non-zero (or could not run): the command, its exit code and what it printed. */
export class KubectlError extends Error {
  constructor(
    readonly command: string,
    readonly where: string,
    readonly code: number,
    readonly output: string,
  ) {
    super(`\`${commandLabel(command)}\` on ${where} exited ${code}: ${trimOutput(output, 3)}`);
    this.name = 'KubectlError';
  }

  /** kubectl said the object or type does not exist. */
  get notFound(): boolean {
    return /NotFound|not found/.test(this.output);
  }
}

/** The words after `kubectl` for one get; the same for a server's `k3s kubectl` and the local kubectl. */
export function kubectlGetArgs(query: KubeQuery, name?: string): string[] {
  return [
    'get',
    query.resources.join(','),
    ...(name !== undefined ? [name] : []),
    ...(query.namespace !== undefined ? ['-n', query.namespace] : query.allNamespaces ? ['-A'] : []),
    ...(query.selector ? ['-l', query.selector] : []),
    '-o',
    'json',
    ...(query.requestTimeoutSeconds !== undefined ? [`--request-timeout=${query.requestTimeoutSeconds}s`] : []),
  ];
}

/**
 * `k3s kubectl get …` as run on a server (sudo: it reads /etc/rancher/k3s/k3s.yaml). With types that need a CRD, a
 * script that adds each to the list only when its CRD exists, then gets them all at once.
 */
export function buildKubectlGetCommand(query: KubeQuery): ShellScript {
  if (!query.ifServed?.length) return sh`k3s kubectl ${kubectlGetArgs(query)}`;
  const lines = [sh`kinds=${query.resources.join(',')}`];
  for (const c of query.ifServed) lines.push(sh`if k3s kubectl get crd ${c.crd} -o name >/dev/null 2>&1; then kinds="$kinds,${c.resource}"; fi`);
  const [, , ...rest] = kubectlGetArgs(query);
  lines.push(sh`exec k3s kubectl get "$kinds" ${rest}`, sh``);
  return joinShell(lines);
}

/** Several gets, one after the other, in one script: their Lists are printed in order. */
export function buildKubectlGetEachCommand(queries: readonly KubeQuery[]): ShellScript {
  return joinShell(queries.map(buildKubectlGetCommand));
}

interface Answer {
  code: number;
  stdout: string;
  stderr: string;
}

/** What both kinds of kubectl share: run the words, check the exit, parse the answer. */
abstract class KubectlBase implements Kubectl {
  abstract readonly where: string;
  protected abstract run(args: string[] | ShellScript, opts: KubectlCallOptions): Promise<Answer>;
  protected abstract describe(args: string[]): string;
  /** Which of these CRD types the API serves. */
  protected abstract served(types: readonly { resource: string; crd: string }[], opts: KubectlCallOptions): Promise<string[]>;

  protected check(command: string, r: Answer): string {
    if (r.code !== 0) throw new KubectlError(command, this.where, r.code, `${r.stderr}\n${r.stdout}`);
    return r.stdout;
  }

  async get(query: KubeQuery, opts: KubectlCallOptions = {}): Promise<KubeItem[]> {
    const resources = [...query.resources, ...(await this.served(query.ifServed ?? [], opts))];
    const args = kubectlGetArgs({ ...query, resources, ifServed: [] });
    const command = this.describe(args);
    const stdout = this.check(command, await this.run(args, opts));
    return parseKubeList(stdout, { command, ...(query.kind ? { kind: query.kind } : {}) });
  }

  async getEach(queries: readonly KubeQuery[], opts: KubectlCallOptions = {}): Promise<KubeItem[][]> {
    if (queries.length === 0) return [];
    if (queries.length === 1) return [await this.get(queries[0]!, opts)];
    // A get with CRD checks is a script ending in `exec`: it cannot be followed by others in the same shell.
    if (queries.some((q) => q.ifServed?.length)) throw new Error('getEach: a get with ifServed runs on its own (use get)');
    const script = buildKubectlGetEachCommand(queries);
    const stdout = this.check(script.text, await this.run(script, opts));
    const docs = splitJsonDocuments(stdout);
    const command = commandLabel(script.text);
    if (docs.length !== queries.length) throw new KubectlError(script.text, this.where, 0, `printed ${docs.length} lists instead of ${queries.length}`);
    return docs.map((doc, i) => parseKubeList(doc, { command, ...(queries[i]!.kind ? { kind: queries[i]!.kind } : {}) }));
  }

  async getObject(resource: string, name: string, opts: KubectlCallOptions & { namespace?: string } = {}): Promise<KubeItem | undefined> {
    const args = kubectlGetArgs({ resources: [resource], ...(opts.namespace !== undefined ? { namespace: opts.namespace } : {}) }, name);
    const command = this.describe(args);
    const r = await this.run(args, opts);
    if (r.code !== 0) {
      const error = new KubectlError(command, this.where, r.code, `${r.stderr}\n${r.stdout}`);
      if (error.notFound) return undefined;
      throw error;
    }
    return parseKubeItem(parseJson(r.stdout, command), { command });
  }
}

/** kubectl on a server: `k3s kubectl …` through its one transport, with sudo. */
export class RemoteKubectl extends KubectlBase {
  readonly where: string;

  constructor(
    private readonly transport: Transport,
    private readonly defaults: KubectlCallOptions = { timeoutMs: 30_000 },
  ) {
    super();
    this.where = transport.nodeName;
  }

  protected describe(args: string[]): string {
    return sh`k3s kubectl ${args}`.text;
  }

  /** On a server the CRD checks run inside the one script of the get (buildKubectlGetCommand). */
  protected served(): Promise<string[]> {
    return Promise.resolve([]);
  }

  override async get(query: KubeQuery, opts: KubectlCallOptions = {}): Promise<KubeItem[]> {
    if (!query.ifServed?.length) return super.get(query, opts);
    const script = buildKubectlGetCommand(query);
    const stdout = this.check(script.text, await this.run(script, opts));
    return parseKubeList(stdout, { command: script.text, ...(query.kind ? { kind: query.kind } : {}) });
  }

  protected run(args: string[] | ShellScript, opts: KubectlCallOptions): Promise<Answer> {
    const script = Array.isArray(args) ? sh`k3s kubectl ${args}` : args;
    return this.transport.run(script, { sudo: true, timeoutMs: opts.timeoutMs ?? this.defaults.timeoutMs ?? 30_000 });
  }
}

/** The local kubectl with a kubeconfig and context (`status` reads the API this way when this computer reaches it). */
export class LocalKubectl extends KubectlBase {
  readonly where: string;

  constructor(private readonly opts: { kubeconfig: string; context: string; env?: NodeJS.ProcessEnv; binary?: string; timeoutMs?: number }) {
    super();
    this.where = `kubeconfig:${opts.context}`;
  }

  protected async served(types: readonly { resource: string; crd: string }[], opts: KubectlCallOptions): Promise<string[]> {
    const out: string[] = [];
    for (const t of types) if ((await this.run(['get', 'crd', t.crd, '-o', 'name'], opts)).code === 0) out.push(t.resource);
    return out;
  }

  private globalArgs(): string[] {
    return ['--kubeconfig', this.opts.kubeconfig, '--context', this.opts.context];
  }

  protected describe(args: string[]): string {
    return ['kubectl', ...this.globalArgs(), ...args].join(' ');
  }

  protected run(args: string[] | ShellScript, opts: KubectlCallOptions): Promise<Answer> {
    // A script of several gets is a remote thing; locally each get is its own process.
    if (!Array.isArray(args)) return Promise.reject(new Error('LocalKubectl runs one get at a time'));
    return new Promise((resolve) => {
      execFile(
        this.opts.binary ?? 'kubectl',
        [...this.globalArgs(), ...args],
        { env: this.opts.env ?? process.env, timeout: opts.timeoutMs ?? this.opts.timeoutMs ?? 10_000, maxBuffer: 64 * 1024 * 1024 },
        (error, stdout, stderr) =>
          resolve(
            error ? { code: typeof error.code === 'number' ? error.code : 1, stdout: '', stderr: `${stderr}${error.message}` } : { code: 0, stdout, stderr },
          ),
      );
    });
  }

  override async getEach(queries: readonly KubeQuery[], opts: KubectlCallOptions = {}): Promise<KubeItem[][]> {
    const out: KubeItem[][] = [];
    for (const q of queries) out.push(await this.get(q, opts));
    return out;
  }
}
