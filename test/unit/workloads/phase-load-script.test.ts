import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatSummary, parseLoadOptions, percentile, runLoad, summarize } from '../../../scripts/load.js';

/** scripts/load.ts (the HPA load generator) against a local HTTP server on 127.0.0.1. */
describe('load script options', () => {
  it('defaults: GET / at 10/s for 60 s on the host itself', () => {
    expect(parseLoadOptions({ host: 'frontend.revue.local' })).toEqual({
      mode: 'get',
      host: 'frontend.revue.local',
      address: 'frontend.revue.local',
      port: 80,
      path: '/',
      rate: 10,
      durationSeconds: 60,
      maxInFlight: 20,
      timeoutMs: 10_000,
      username: 'user',
      password: 'user',
    });
    expect(parseLoadOptions({ host: 'auth.revue.local', mode: 'login' }).path).toBe('/login');
  });

  it.each([
    [{}, '--host is required'],
    [{ host: 'a b' }, '--host is required'],
    [{ host: 'x', mode: 'put' }, '--mode must be get or login, not "put".'],
    [{ host: 'x', duration: 7200 }, '--duration must be a number from 1 to 3600, not "7200".'],
    [{ host: 'x', rate: 0 }, '--rate must be a number from 0.1 to 2000, not "0".'],
    [{ host: 'x', rate: 'fast' }, '--rate must be a number from 0.1 to 2000, not "fast".'],
  ])('%j is refused', (args, message) => expect(() => parseLoadOptions(args)).toThrow(message));
});

describe('summary', () => {
  it('percentiles by nearest rank', () => {
    const v = Array.from({ length: 100 }, (_, i) => i + 1);
    expect([percentile(v, 50), percentile(v, 95), percentile(v, 99), percentile([], 50)]).toEqual([50, 95, 99, 0]);
  });
  it('counts statuses and errors apart', () => {
    const s = summarize(
      [
        { status: 200, ms: 5 },
        { status: 200, ms: 7 },
        { status: 503, ms: 1 },
        { status: 0, ms: 10, error: 'ECONNREFUSED' },
      ],
      2,
      2000,
    );
    expect(s).toEqual({ sent: 4, dropped: 2, byStatus: { '200': 2, '503': 1 }, errors: { ECONNREFUSED: 1 }, p50: 5, p95: 7, p99: 7, achievedRate: 2 });
    expect(formatSummary(s)).toBe(
      '4 requests (2/s), 2 dropped (too many in flight); status 200×2 503×1; errors ECONNREFUSED×1; latency p50 5 ms, p95 7 ms, p99 7 ms',
    );
  });
});

describe('runLoad on 127.0.0.1', () => {
  const seen: { method: string; host: string; url: string; body: string }[] = [];
  let server: http.Server;
  let port: number;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        seen.push({ method: req.method ?? '', host: req.headers.host ?? '', url: req.url ?? '', body });
        res.writeHead(req.url === '/login' ? 401 : 200).end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('GETs at the rate with the Host header, and stops by itself after the duration', async () => {
    seen.length = 0;
    const t0 = Date.now();
    const s = await runLoad(parseLoadOptions({ host: 'frontend.revue.local', address: '127.0.0.1', port, rate: 40, duration: 1 }));
    const ms = Date.now() - t0;
    expect(ms).toBeGreaterThanOrEqual(1000);
    expect(ms).toBeLessThan(3000);
    expect(s.sent).toBeGreaterThanOrEqual(36);
    expect(s.sent).toBeLessThanOrEqual(41);
    expect(s.byStatus).toEqual({ '200': s.sent });
    expect(seen.length).toBe(s.sent);
    expect(new Set(seen.map((r) => `${r.method} ${r.host} ${r.url}`))).toEqual(new Set(['GET frontend.revue.local /']));
  });

  it('POSTs the login as JSON', async () => {
    seen.length = 0;
    const s = await runLoad(
      parseLoadOptions({ mode: 'login', host: 'auth.revue.local', address: '127.0.0.1', port, rate: 10, duration: 1, username: 'alice', password: 'pw' }),
    );
    expect(s.byStatus).toEqual({ '401': s.sent });
    expect(seen[0]).toEqual({ method: 'POST', host: 'auth.revue.local', url: '/login', body: '{"username":"alice","password":"pw"}' });
  });

  it('an abort stops it early; a refused connection is counted as an error', async () => {
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 300);
    const t0 = Date.now();
    const s = await runLoad(parseLoadOptions({ host: 'x.revue.local', address: '127.0.0.1', port: 1, rate: 20, duration: 60 }), { signal: abort.signal });
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(s.sent).toBeGreaterThan(0);
    expect(s.errors).toEqual({ ECONNREFUSED: s.sent });
  });
});
