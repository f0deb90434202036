/** What up and status tell the operator about reaching the workloads (workloads/access.ts renders it; the run report carries it). */

/** One address and the host names that must resolve to it on the computer the browser runs on. */
export interface HostsEntry {
  /** The address, when known. */
  address?: string;
  /** How to learn the address while it is not known. */
  lookup: string;
  /** Where the names lead: Traefik (routes on port 80), or one LoadBalancer Service. */
  target: { kind: 'ingress' } | { kind: 'service'; namespace: string; name: string };
  names: string[];
}

export interface AccessInfo {
  /** Traefik's LoadBalancer address: the one read from the cluster, else the inventory's fixed one. */
  ingressAddress?: string;
  /**
   * Where ingressAddress comes from: `cluster` = read from the Traefik Service's status.loadBalancer.ingress (MetalLB
   * handed it out); `inventory` = network.addresses.ingress, asked for but not seen on the Service.
   */
  ingressSource?: 'cluster' | 'inventory';
  urls: { name: string; url: string }[];
  /** Every routed host name, sorted. */
  hosts: string[];
  /** The /etc/hosts lines, as data (formatHostsLines writes them). */
  hostsEntries: HostsEntry[];
  /** What the hosts lines are for, and how to find an address not known yet. */
  hostsHint: string;
  /** How to read Grafana's admin password (the value itself is never printed). */
  grafanaPassword?: string;
  /** The stock Revue logins the deployment keeps, and how to change them. */
  revueLogins?: string;
}
