import type { AccessInfo, HostsEntry } from '../core/access-info.js';
import { sh } from '../core/remote/shell.js';

export type { AccessInfo, HostsEntry } from '../core/access-info.js';
import type { Inventory } from '../core/inventory/schema.js';
import { type K8sObject, hostFor } from './render.js';
import { GRAFANA_ADMIN } from './secrets.js';

/**
 * What to tell the operator at the end of `up` and in `status`: URLs, the /etc/hosts lines a laptop needs, where the
 * Grafana password is and which Revue logins exist. Pure.
 *
 * Revue's web UI (v3.1.14) has its API addresses compiled in as http://revue-<service> (port 80, no domain) and its
 * camera iframes at http://revue-media-server:8889 (workloads/revue/contracts/frontend.json): a DNS record for
 * *.<domain> cannot serve those names, so the hosts lines are the way in.
 */

/** The media server's LoadBalancer Service: the web UI's cameras load from it by this name. */
export const MEDIA_SERVER_SERVICE = 'revue-media-server';

/**
 * Revue's stock users (auth/db/auth-init.js at v3.1.14, both bcrypt hashes of "user"; see contracts/auth.json). Kept:
 * Revue cannot create an admin nor change a password, so without them nobody could log in.
 */
export const REVUE_STOCK_LOGINS =
  'Revue logins: admin (role admin) and user (role guardian), both with password "user": Revue\'s stock users, open to ' +
  'anyone who reaches the web UI. Revue cannot change a password; replace its hash in the auth database as the README ' +
  '("Revue\'s logins") shows.';

/**
 * URLs, host names and hints for the rendered workloads. `assignedIngress` is the address the Traefik Service has in the
 * cluster (status.loadBalancer.ingress); without it the inventory's fixed address is used, marked as such
 * (`ingressSource`). `assignedMediaServer` likewise for the media server.
 */
export function renderAccessInfo(inventory: Inventory, objects: K8sObject[], assignedIngress?: string, assignedMediaServer?: string): AccessInfo {
  const ingressAddress = assignedIngress ?? inventory.network.addresses.ingress;
  const ingressSource = assignedIngress ? 'cluster' : ingressAddress ? 'inventory' : undefined;
  const mediaServerAddress = assignedMediaServer ?? inventory.network.addresses.mediaServer;
  const domain = inventory.cluster.domain;
  const namespace = inventory.workloads.namespace;
  const routed = objects
    .filter((o) => o.kind === 'IngressRoute')
    .flatMap((o) => (o.spec as { routes: { match: string }[] }).routes.flatMap((r) => [...r.match.matchAll(/Host\(`([^`]+)`\)/g)].map((m) => m[1] ?? '')));
  const traefikHost = hostFor('traefik', domain);
  const hosts = [...new Set([...routed, traefikHost])].sort();
  const url = (service: string, path = '/') => `http://${hostFor(service, domain)}${path}`;
  const urls: { name: string; url: string }[] = [];
  if (inventory.workloads.revue) urls.push({ name: 'Revue', url: url('frontend') });
  if (inventory.workloads.monitoring) urls.push({ name: 'Grafana', url: url('grafana') }, { name: 'Prometheus', url: url('prometheus') });
  urls.push({ name: 'Traefik dashboard', url: url('traefik', '/dashboard/') });
  if (inventory.workloads.revue && inventory.workloads.kafkaUi) urls.push({ name: 'Kafka UI', url: url('kafka-ui') });

  const hostsEntries: HostsEntry[] = [
    {
      ...(ingressAddress ? { address: ingressAddress } : {}),
      lookup: 'kubectl -n kube-system get service traefik',
      target: { kind: 'ingress' },
      names: hosts,
    },
  ];
  const mediaServer = inventory.workloads.revue && objects.some((o) => o.kind === 'Service' && o.metadata.name === MEDIA_SERVER_SERVICE);
  if (mediaServer) {
    hostsEntries.push({
      ...(mediaServerAddress ? { address: mediaServerAddress } : {}),
      lookup: sh`kubectl -n ${namespace} get service ${MEDIA_SERVER_SERVICE}`.text,
      target: { kind: 'service', namespace, name: MEDIA_SERVER_SERVICE },
      names: [MEDIA_SERVER_SERVICE],
    });
  }
  const unknown = hostsEntries.filter((e) => !e.address);
  const hostsHint =
    `Add to /etc/hosts on the computer you browse from${inventory.workloads.revue ? " (Revue's web UI calls its services as revue-<service>, which no DNS zone for *." + domain + ' serves)' : ''}:` +
    (unknown.length ? ` ${unknown.map((e) => `for <${hostsPlaceholder(e)}> read the EXTERNAL-IP of ${e.lookup}`).join('; ')}.` : '');

  return {
    ...(ingressAddress ? { ingressAddress } : {}),
    ...(ingressSource ? { ingressSource } : {}),
    urls,
    hosts,
    hostsEntries,
    hostsHint,
    ...(inventory.workloads.monitoring
      ? {
          grafanaPassword:
            `Grafana user ${GRAFANA_ADMIN.user}; password: kubectl -n ${GRAFANA_ADMIN.namespace} get secret ${GRAFANA_ADMIN.secret} ` +
            `-o jsonpath='{.data.${GRAFANA_ADMIN.passwordKey}}' | base64 -d; echo`,
        }
      : {}),
    ...(inventory.workloads.revue ? { revueLogins: REVUE_STOCK_LOGINS } : {}),
  };
}

function hostsPlaceholder(entry: HostsEntry): string {
  return entry.target.kind === 'ingress' ? 'traefik-address' : `${entry.target.name}-address`;
}

/**
 * The /etc/hosts lines, each at most `width` characters where the names allow: a long list of names is split over
 * several lines for the same address (each line is valid on its own). An unknown address is written as a placeholder.
 */
export function formatHostsLines(entries: HostsEntry[], width = 100): string[] {
  const lines: string[] = [];
  for (const e of entries) {
    const address = e.address ?? `<${hostsPlaceholder(e)}>`;
    let line = address;
    for (const name of e.names) {
      if (line !== address && line.length + 1 + name.length > width) {
        lines.push(line);
        line = address;
      }
      line += ` ${name}`;
    }
    lines.push(line);
  }
  return lines;
}
