/**
 * revue-pi LAB STAND-IN for https://get.k3s.io and the K3s GitHub releases: a small node:http server on
 * 127.0.0.1 that serves the stand-in installer (install.sh) and the stand-in `k3s` (k3s-front.sh + k3s.cjs,
 * assembled with the version it is asked for). Nothing here is K3s; see README.md next to this file.
 *
 * Routes (the same paths the real installer uses, under this server's origin):
 *   GET /install.sh                                           the stand-in installer
 *   GET /v1-release/channels/<channel>                        302 → /k3s-io/k3s/releases/tag/<version>
 *   GET /k3s-io/k3s/releases/download/<version>/sha256sum-<arch>.txt
 *   GET /k3s-io/k3s/releases/download/<version>/k3s[-arm64|-armhf]   (delayed by `delayMs`)
 */
import fs from 'node:fs';
import http from 'node:http';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHARTS, type ChartKey } from '../../../core/inventory/images.js';
import { RELEASE_WORKLOADS, type ReleaseWorkload } from '../../../workloads/monitoring/contract.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));

/** What the stand-in's release channels resolve to (the real ones move; these are fixed for the lab). */
export const STANDIN_CHANNELS: Readonly<Record<string, string>> = {
  stable: 'v1.33.5+k3s1',
  latest: 'v1.34.1+k3s1',
  'v1.34': 'v1.34.1+k3s1',
  'v1.33': 'v1.33.5+k3s1',
  'v1.32': 'v1.32.9+k3s1',
};
const VERSION_RE = /^v\d+\.\d+\.\d+(-rc\d+)?\+k3s\d+$/;
/** Where the stand-in installer appends one line per run, inside the node. */
export const INSTALLER_LOG = '/var/lib/rancher/standin-installer.log';
/** A file whose presence makes the next stand-in installer run on that node fail (then it is removed). */
export const INSTALLER_FAIL_MARKER = '/var/lib/rancher/standin-installer.fail-next';

export interface InstallerRequest {
  /** URL path without the query, e.g. "/install.sh" or "/k3s-io/k3s/releases/download/v1.33.5+k3s1/k3s-arm64" */
  path: string;
  /** Date.now() when the request arrived */
  at: number;
  /** the node's hostname, from the stand-in installer's X-Lab-Node header (absent for the `curl URL | sh` fetch itself) */
  node?: string;
  status: number;
}

export interface InstallerServer {
  /** http://127.0.0.1:PORT/install.sh — use it as k3s.installScriptUrl */
  readonly url: string;
  /** http://127.0.0.1:PORT */
  readonly origin: string;
  requests(): InstallerRequest[];
  /** Makes the next `times` download requests from that node (hostname) answer 500, so its installer fails with "Download failed". */
  failNext(node: string, times?: number): void;
  stop(): Promise<void>;
}

/** The stand-in installer script; `origin` is where it downloads from (left as a placeholder for air-gapped use). */
export function installScript(origin?: string): string {
  const text = fs.readFileSync(path.join(HERE, 'install.sh'), 'utf8');
  return origin === undefined ? text : text.replace('@@STANDIN_ORIGIN@@', origin);
}

const binaries = new Map<string, Buffer>();

/**
 * What the stand-in helm-controller installs as a release's workloads: the monitoring contract's, per chart
 * (workloads/monitoring/contract.ts, read from the charts' templates at their pinned versions).
 */
function helmReleases(): { chart: string; release: string; workloads: ReleaseWorkload[] }[] {
  return (Object.keys(RELEASE_WORKLOADS) as ChartKey[]).map((k) => ({
    chart: CHARTS[k].chart,
    release: RELEASE_WORKLOADS[k].release,
    workloads: RELEASE_WORKLOADS[k].workloads,
  }));
}

/**
 * The stand-in `k3s` for `version`, the same for every architecture: a bash front (k3s-front.sh) followed by
 * the Node.js program (helm-controller.cjs and k3s.cjs, js-yaml and the monitoring contract's release workloads
 * inlined), which the front has node run from the same file.
 */
export function standinBinary(version: string): Buffer {
  if (!VERSION_RE.test(version)) throw new Error(`k3s stand-in: "${version}" is not a K3s version like v1.33.5+k3s1.`);
  let bin = binaries.get(version);
  if (!bin) {
    const require = createRequire(import.meta.url);
    const jsYamlDist = path.join(path.dirname(require.resolve('js-yaml/package.json')), 'dist/js-yaml.js');
    const program = [
      `// revue-pi lab stand-in for k3s ${version} — NOT K3s (test/lab/k3s-standin/k3s.cjs, assembled by server.ts)`,
      `const K3S_STANDIN_VERSION = ${JSON.stringify(version)};`,
      'const jsyaml = (function () { var module = { exports: {} }; var exports = module.exports;',
      fs.readFileSync(jsYamlDist, 'utf8').replace(/^\/\/# sourceMappingURL=.*$/m, ''),
      'return module.exports; })();',
      `const HELM_RELEASES = ${JSON.stringify(helmReleases())};`,
      fs.readFileSync(path.join(HERE, 'helm-controller.cjs'), 'utf8'),
      // etcd, snapshots, reset and drain first: k3s.cjs ends by running main(), by which time their declarations are in place.
      ...['k3s-etcd.cjs', 'k3s-snapshot.cjs', 'k3s-reset.cjs', 'k3s-drain.cjs', 'k3s.cjs'].map((f) => fs.readFileSync(path.join(HERE, f), 'utf8')),
    ].join('\n');
    const front = fs.readFileSync(path.join(HERE, 'k3s-front.sh'), 'utf8').replaceAll('@@VERSION@@', version);
    bin = Buffer.from(front + program);
    binaries.set(version, bin);
  }
  return bin;
}

export async function startInstallerServer(opts: { address?: string; port?: number; delayMs?: number } = {}): Promise<InstallerServer> {
  const address = opts.address ?? '127.0.0.1';
  if (!address.startsWith('127.')) throw new Error(`k3s stand-in: the installer server binds to loopback only, not "${address}".`);
  const log: InstallerRequest[] = [];
  const failures = new Map<string, number>();
  let origin = '';

  const server = http.createServer((req, res) => {
    const urlPath = decodeURIComponent((req.url ?? '/').split('?')[0] ?? '/');
    const node = typeof req.headers['x-lab-node'] === 'string' ? req.headers['x-lab-node'] : undefined;
    const send = (status: number, body: string | Buffer, headers: Record<string, string> = {}) => {
      log.push({ path: urlPath, at: Date.now(), ...(node ? { node } : {}), status });
      res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain' : 'application/octet-stream', ...headers });
      res.end(body);
    };
    const pending = node ? (failures.get(node) ?? 0) : 0;
    if (pending > 0 && urlPath !== '/install.sh') {
      failures.set(node!, pending - 1);
      return send(500, `lab stand-in: injected download failure for ${node}\n`);
    }
    if (req.method !== 'GET') return send(405, 'method not allowed\n');
    if (urlPath === '/install.sh') return send(200, installScript(origin));
    let m = /^\/v1-release\/channels\/([^/]+)$/.exec(urlPath);
    if (m) {
      const v = STANDIN_CHANNELS[m[1]!];
      return v ? send(302, '', { location: `${origin}/k3s-io/k3s/releases/tag/${v}` }) : send(404, `channel ${m[1]} not found\n`);
    }
    m = /^\/k3s-io\/k3s\/releases\/tag\/([^/]+)$/.exec(urlPath);
    if (m && VERSION_RE.test(m[1]!)) return send(200, `K3s ${m[1]} (revue-pi lab stand-in)\n`);
    m = /^\/k3s-io\/k3s\/releases\/download\/([^/]+)\/([^/]+)$/.exec(urlPath);
    if (m && VERSION_RE.test(m[1]!)) {
      const bin = standinBinary(m[1]!);
      const file = m[2]!;
      if (/^sha256sum-(amd64|arm64|arm)\.txt$/.test(file)) {
        const hash = createHash('sha256').update(bin).digest('hex');
        return send(200, ['k3s', 'k3s-arm64', 'k3s-armhf'].map((f) => `${hash}  ${f}\n`).join(''));
      }
      if (/^k3s(-arm64|-armhf)?$/.test(file)) {
        setTimeout(() => send(200, bin), opts.delayMs ?? 0);
        return;
      }
    }
    return send(404, 'Not Found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, address, () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  origin = `http://${address}:${port}`;
  return {
    url: `${origin}/install.sh`,
    origin,
    requests: () => log.map((r) => ({ ...r })),
    failNext(node: string, times = 1) {
      failures.set(node, (failures.get(node) ?? 0) + times);
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface InstallerRun {
  at: string;
  node: string;
  cmd: string;
  version: string;
  /** started | restarted | unchanged | skip-start | skip-enable | failed */
  result: string;
  exit: number;
}

/** The stand-in installer runs recorded on a lab node (oldest first); `nodePath` maps a node path to the host (LabNode.path). */
export function installerRuns(node: { path(nodePath: string): string }): InstallerRun[] {
  let text = '';
  try {
    text = fs.readFileSync(node.path(INSTALLER_LOG), 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [at = '', ...rest] = line.split(' ');
      const f = Object.fromEntries(rest.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
      return { at, node: f.node ?? '', cmd: f.cmd ?? '', version: f.version ?? '', result: f.result ?? '', exit: Number(f.exit) };
    });
}

/** Makes the next stand-in installer run on this node fail (also in air-gapped mode, where no download happens). */
export function failNextInstall(node: { path(nodePath: string): string }): void {
  const file = node.path(INSTALLER_FAIL_MARKER);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, 'revue-pi lab stand-in: fail the next installer run\n');
}

/** Where the stand-in helm-controller reads how a chart's install goes (on the first server; see README.md). */
export const HELM_KNOB_FILE = '/var/lib/rancher/k3s/server/standin-helm.json';

export interface HelmInstallKnob {
  /** fail: the Job gives up (Failed=True) · retry: failed attempts, still active · no-workloads: Complete, nothing the contract names runs */
  outcome?: 'fail' | 'retry' | 'no-workloads';
  /** How long the install Job runs before it finishes (ms; default 0). */
  installMs?: number;
  /** How long the release's workloads stay not ready after the install (ms; default 0). */
  readyMs?: number;
}

/**
 * How the stand-in installs HelmChart `<namespace>/<name>` from its next sync on (a new or changed spec, or the chart
 * deleted and applied again); `undefined` restores the default (installed at once, ready at once).
 */
export function setHelmInstall(firstServer: { path(nodePath: string): string }, chart: string, knob: HelmInstallKnob | undefined): void {
  const file = firstServer.path(HELM_KNOB_FILE);
  let knobs: Record<string, HelmInstallKnob> = {};
  try {
    knobs = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, HelmInstallKnob>;
  } catch {
    knobs = {};
  }
  if (knob) knobs[chart] = knob;
  else delete knobs[chart];
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(knobs, null, 1) + '\n');
}
