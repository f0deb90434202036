/**
 * Load generators to exercise Revue's autoscalers (HPA: CPU 60 %, 1 to 5 replicas), as upstream did by hand:
 * GET on the frontend at a steady rate, and POST login on the auth service.
 *
 *   npx tsx scripts/load.ts --host frontend.revue.local --rate 50 --duration 120
 *   npx tsx scripts/load.ts --mode login --host auth.revue.local --rate 20 --duration 60 --username user --password user
 *   npx tsx scripts/load.ts --host frontend.revue.local --address 192.168.1.240     # no /etc/hosts line needed
 *
 * Open loop: a request starts every 1/rate s whatever the answers do (a slow service shows up as latency and
 * errors, not as a lower rate), at most --max-in-flight at once (beyond that a tick is counted as dropped).
 * It always stops by itself after --duration seconds (at most 3600) or on Ctrl-C, then prints a summary.
 * Watch the scaling meanwhile with `kubectl -n revue get hpa -w` (see README.md, "Load testing").
 */
import http from 'node:http';
import { pathToFileURL } from 'node:url';
import { argv, chalk, echo } from 'zx';

export interface LoadOptions {
  mode: 'get' | 'login';
  /** Host name the request is for (Host header), e.g. frontend.revue.local. */
  host: string;
  /** Where to connect (Traefik's address); default: the host name itself. */
  address: string;
  port: number;
  path: string;
  rate: number;
  durationSeconds: number;
  maxInFlight: number;
  timeoutMs: number;
  username: string;
  password: string;
}

const MAX_DURATION_SECONDS = 3600;
const MAX_RATE = 2000;

/** Options from the command line (minimist-style object); throws a sentence naming the option on a bad value. */
export function parseLoadOptions(args: Record<string, unknown>): LoadOptions {
  const mode = String(args.mode ?? 'get');
  if (mode !== 'get' && mode !== 'login') throw new Error(`--mode must be get or login, not "${mode}".`);
  const host = args.host === undefined ? undefined : String(args.host);
  if (!host || !/^[A-Za-z0-9.-]+$/.test(host))
    throw new Error('--host is required: the host name Traefik routes, e.g. frontend.revue.local (or auth.revue.local with --mode login).');
  const num = (name: string, fallback: number, min: number, max: number): number => {
    const raw = args[name];
    const n = raw === undefined ? fallback : Number(raw);
    if (!Number.isFinite(n) || n < min || n > max) throw new Error(`--${name} must be a number from ${min} to ${max}, not "${String(raw)}".`);
    return n;
  };
  const rate = num('rate', 10, 0.1, MAX_RATE);
  return {
    mode,
    host,
    address: args.address === undefined ? host : String(args.address),
    port: num('port', 80, 1, 65535),
    path: String(args.path ?? (mode === 'login' ? '/login' : '/')),
    rate,
    durationSeconds: num('duration', 60, 1, MAX_DURATION_SECONDS),
    maxInFlight: num('max-in-flight', Math.max(10, Math.ceil(rate * 2)), 1, 10_000),
    timeoutMs: num('timeout', 10, 0.1, 120) * 1000,
    username: String(args.username ?? 'user'),
    password: String(args.password ?? 'user'),
  };
}

export interface Sample {
  /** HTTP status, or 0 when the request failed (error in `error`). */
  status: number;
  ms: number;
  error?: string;
}

export interface LoadSummary {
  sent: number;
  dropped: number;
  byStatus: Record<string, number>;
  errors: Record<string, number>;
  p50: number;
  p95: number;
  p99: number;
  achievedRate: number;
}

/** Nearest-rank percentile of sorted values (0 for none). */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export function summarize(samples: Sample[], dropped: number, elapsedMs: number): LoadSummary {
  const byStatus: Record<string, number> = {};
  const errors: Record<string, number> = {};
  for (const s of samples) {
    if (s.status === 0) errors[s.error ?? 'error'] = (errors[s.error ?? 'error'] ?? 0) + 1;
    else byStatus[String(s.status)] = (byStatus[String(s.status)] ?? 0) + 1;
  }
  const ms = samples
    .filter((s) => s.status !== 0)
    .map((s) => s.ms)
    .sort((a, b) => a - b);
  return {
    sent: samples.length,
    dropped,
    byStatus,
    errors,
    p50: percentile(ms, 50),
    p95: percentile(ms, 95),
    p99: percentile(ms, 99),
    achievedRate: elapsedMs > 0 ? Math.round((samples.length / (elapsedMs / 1000)) * 10) / 10 : 0,
  };
}

export function formatSummary(s: LoadSummary): string {
  const statuses =
    Object.entries(s.byStatus)
      .map(([k, v]) => `${k}×${v}`)
      .join(' ') || 'none';
  const errors = Object.entries(s.errors)
    .map(([k, v]) => `${k}×${v}`)
    .join(' ');
  return (
    `${s.sent} requests (${s.achievedRate}/s), ${s.dropped} dropped (too many in flight); status ${statuses}` +
    `${errors ? `; errors ${errors}` : ''}; latency p50 ${s.p50} ms, p95 ${s.p95} ms, p99 ${s.p99} ms`
  );
}

/** One request as the options say; never rejects. */
export function sendOne(o: LoadOptions): Promise<Sample> {
  const started = Date.now();
  const body = o.mode === 'login' ? JSON.stringify({ username: o.username, password: o.password }) : undefined;
  return new Promise((resolve) => {
    const req = http.request(
      {
        host: o.address,
        port: o.port,
        path: o.path,
        method: o.mode === 'login' ? 'POST' : 'GET',
        headers: { host: o.host, ...(body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {}), connection: 'keep-alive' },
        timeout: o.timeoutMs,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: Date.now() - started }));
        res.on('error', (e) => resolve({ status: 0, ms: Date.now() - started, error: (e as NodeJS.ErrnoException).code ?? e.message }));
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('error', (e) => resolve({ status: 0, ms: Date.now() - started, error: (e as NodeJS.ErrnoException).code ?? e.message }));
    req.end(body);
  });
}

/**
 * Runs the load for the given duration (or until `signal` aborts) and resolves with the summary. `onTick` is called
 * about every `reportEveryMs` with the numbers so far.
 */
export async function runLoad(
  o: LoadOptions,
  opts: { signal?: AbortSignal; reportEveryMs?: number; onTick?: (s: LoadSummary) => void } = {},
): Promise<LoadSummary> {
  const samples: Sample[] = [];
  const pending = new Set<Promise<void>>();
  let dropped = 0;
  const started = Date.now();
  const end = started + o.durationSeconds * 1000;
  const interval = 1000 / o.rate;
  let next = started;
  let lastReport = started;
  while (Date.now() < end && !opts.signal?.aborted) {
    const now = Date.now();
    if (now >= next) {
      next += interval;
      if (pending.size >= o.maxInFlight) dropped++;
      else {
        const p: Promise<void> = sendOne(o).then((s) => {
          samples.push(s);
          pending.delete(p);
        });
        pending.add(p);
      }
      continue;
    }
    if (opts.onTick && now - lastReport >= (opts.reportEveryMs ?? 5000)) {
      lastReport = now;
      opts.onTick(summarize(samples, dropped, now - started));
    }
    await new Promise((r) => setTimeout(r, Math.min(next - now, end - now, 50)));
  }
  await Promise.all(pending);
  return summarize(samples, dropped, Date.now() - started);
}

async function main(): Promise<void> {
  let o: LoadOptions;
  try {
    o = parseLoadOptions(argv as Record<string, unknown>);
  } catch (error) {
    echo(chalk.red((error as Error).message));
    process.exitCode = 2;
    return;
  }
  const abort = new AbortController();
  process.once('SIGINT', () => abort.abort());
  echo(
    `${o.mode === 'login' ? `POST ${o.path} (login as ${o.username})` : `GET ${o.path}`} on ${o.host}` +
      `${o.address !== o.host ? ` via ${o.address}` : ''}:${o.port} at ${o.rate}/s for ${o.durationSeconds} s. ` +
      `Watch: kubectl -n revue get hpa -w`,
  );
  const summary = await runLoad(o, { signal: abort.signal, onTick: (s) => echo(chalk.dim(formatSummary(s))) });
  echo(formatSummary(summary));
  if (summary.sent > 0 && Object.keys(summary.byStatus).length === 0) process.exitCode = 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
