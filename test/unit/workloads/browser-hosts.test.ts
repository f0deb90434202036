import { describe, expect, it } from 'vitest';
import { formatHostsLines, renderAccessInfo } from '../../../workloads/access.js';
import { frontendServiceBase } from '../../../workloads/contract-models.js';
import { type RevueServiceContract, loadContracts } from '../../../workloads/contracts.js';
import { packageRoot, renderWorkloads } from '../../../workloads/render.js';
import { labInventory, minimalInventory } from './helpers.js';

/**
 * Issue 13, blocker 1: the web UI of Revue v3.1.14 calls its APIs as http://revue-<service> (port 80) and embeds
 * cameras from http://revue-media-server:8889 (contracts/frontend.json). From a laptop, each such host must reach Traefik
 * (and be routed there) or the media server's LoadBalancer, through the /etc/hosts lines revue-pi prints.
 */

const frontend = loadContracts(packageRoot()).find((c): c is RevueServiceContract => c.component === 'frontend')!;

describe('the hosts the web UI calls from a browser', () => {
  const inventory = labInventory();
  const objects = renderWorkloads(inventory, { secrets: 'references' });
  const info = renderAccessInfo(inventory, objects);
  const page = info.urls.find((u) => u.name === 'Revue')!.url;
  const calls = frontend.browser!.calls.map((c) => ({ ...c, host: new URL(frontendServiceBase(c.service, page)).hostname }));
  const routes = objects
    .filter((o) => o.kind === 'IngressRoute' && (o.spec as any).entryPoints.includes('web'))
    .flatMap((o) => (o.spec as any).routes as { match: string; services: { name: string; port: number }[] }[]);

  it('are revue-<service>, as the frontend derives them from the Revue URL revue-pi prints', () => {
    expect(page).toBe('http://frontend.revue.lan/');
    expect(calls.map((c) => `${c.host}:${c.port}`)).toEqual([
      'revue-auth:80',
      'revue-user:80',
      'revue-device:80',
      'revue-alarm:80',
      'revue-log:80',
      'revue-notification:80',
      'revue-monitoring:80',
      'revue-media-server:8889',
    ]);
  });

  it('on port 80 are routed by Traefik to the service of the same name, and listed among the hosts', () => {
    const missing: string[] = [];
    for (const c of calls.filter((x) => x.port === 80)) {
      const route = routes.find((r) => [...r.match.matchAll(/Host\(`([^`]+)`\)/g)].some((m) => m[1] === c.host));
      if (!route) missing.push(`${c.host}: no route`);
      else if (route.services[0]?.name !== c.host) missing.push(`${c.host}: routed to ${route.services[0]?.name}`);
      if (!info.hosts.includes(c.host)) missing.push(`${c.host}: not in the hosts line`);
    }
    expect(missing).toEqual([]);
  });

  it('every Revue service keeps its <service>.<domain> name too (both names route to the same Service)', () => {
    for (const s of ['frontend', 'auth', 'user', 'device', 'monitoring', 'notification', 'log', 'alarm', 'location', 'recognition']) {
      const route = routes.find((r) => r.match.includes(`Host(\`${s}.revue.lan\`)`));
      expect(route?.match, s).toBe(`Host(\`${s}.revue.lan\`) || Host(\`revue-${s}\`)`);
    }
  });

  it('the hosts lines map the routed names to Traefik and revue-media-server to the media server, whose LoadBalancer serves 8889', () => {
    const lines = formatHostsLines(info.hostsEntries);
    expect(lines.every((l) => l.length <= 100)).toBe(true);
    expect(lines.at(-1)).toBe('192.168.50.241 revue-media-server');
    const ingressNames = lines.slice(0, -1).flatMap((l) => {
      expect(l.startsWith('192.168.50.240 ')).toBe(true);
      return l.split(' ').slice(1);
    });
    expect(ingressNames).toEqual(info.hosts);
    expect(ingressNames).toEqual(expect.arrayContaining(['revue-auth', 'auth.revue.lan', 'revue-frontend', 'traefik.revue.lan']));
    const media = objects.find((o) => o.kind === 'Service' && o.metadata.name === 'revue-media-server')!;
    expect((media.spec as any).type).toBe('LoadBalancer');
    expect((media.spec as any).ports).toEqual(
      expect.arrayContaining([expect.objectContaining({ port: 8889, protocol: 'TCP' }), expect.objectContaining({ port: 8189, protocol: 'UDP' })]),
    );
  });

  it('addresses not known yet are placeholders, with where to read them', () => {
    const mini = minimalInventory();
    const none = renderAccessInfo(mini, renderWorkloads(mini, { secrets: 'references' }));
    const lines = formatHostsLines(none.hostsEntries);
    expect(lines[0]).toMatch(/^<traefik-address> /);
    expect(lines.at(-1)).toBe('<revue-media-server-address> revue-media-server');
    expect(none.hostsHint).toBe(
      "Add to /etc/hosts on the computer you browse from (Revue's web UI calls its services as revue-<service>, which no DNS zone for *.revue.local serves): " +
        'for <traefik-address> read the EXTERNAL-IP of kubectl -n kube-system get service traefik; for <revue-media-server-address> read the EXTERNAL-IP of kubectl -n revue get service revue-media-server.',
    );
    // The address the cluster handed out (status passes it) replaces the placeholder.
    const handed = renderAccessInfo(mini, renderWorkloads(mini, { secrets: 'references' }), '10.0.0.5', '10.0.0.6');
    expect(formatHostsLines(handed.hostsEntries).at(-1)).toBe('10.0.0.6 revue-media-server');
  });
});
