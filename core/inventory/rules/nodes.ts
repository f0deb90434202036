import { error, warning, type InventoryRule, type RuleIssue } from './rule.js';

/** The nodes: unique names and addresses, a server (an odd number of them), labels Kubernetes accepts. */

export const uniqueNodeNames: InventoryRule = (inv) => {
  const issues: RuleIssue[] = [];
  const seen = new Map<string, number>();
  inv.nodes.forEach((node, i) => {
    const first = seen.get(node.name);
    if (first === undefined) seen.set(node.name, i);
    else issues.push(error(['nodes', i, 'name'], `node name "${node.name}" is already used by nodes[${first}] — give every node its own name`));
  });
  return issues;
};

export const uniqueNodeHosts: InventoryRule = (inv) => {
  const issues: RuleIssue[] = [];
  const seen = new Map<string, number>();
  inv.nodes.forEach((node, i) => {
    const key = node.host.trim().toLowerCase();
    const first = seen.get(key);
    if (first === undefined) seen.set(key, i);
    else {
      const other = inv.nodes[first]?.name ?? '';
      issues.push(error(['nodes', i, 'host'], `host ${node.host} is already used by node ${other} (nodes[${first}]) — each node needs its own address`));
    }
  });
  return issues;
};

export const atLeastOneServer: InventoryRule = (inv) =>
  inv.nodes.some((n) => n.role === 'server')
    ? []
    : [error(['nodes'], 'no node has role: server — make at least one node (usually the first) role: server; it runs the K3s control plane')];

export const oddServerCount: InventoryRule = (inv) => {
  const servers = inv.nodes.filter((n) => n.role === 'server').length;
  if (servers === 0 || servers % 2 === 1) return [];
  return [
    warning(
      ['nodes'],
      `${servers} nodes have role: server — etcd needs a majority, so ${servers} servers survive no more failures than ${servers - 1}; use 1, 3 or 5 servers`,
    ),
  ];
};

export const noNodeRoleLabels: InventoryRule = (inv) => {
  const issues: RuleIssue[] = [];
  inv.nodes.forEach((node, i) => {
    for (const key of Object.keys(node.labels)) {
      if (key.startsWith('node-role.kubernetes.io/')) {
        issues.push(
          error(
            ['nodes', i, 'labels', key],
            `label ${key} cannot be set at registration — the kubelet refuses to start with it; use your own prefix, e.g. revue-pi/role`,
            'key',
          ),
        );
      }
    }
  });
  return issues;
};

const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Kubernetes label syntax: the node would fail to register with a bad label. */
export const labelsAreValid: InventoryRule = (inv) => {
  const issues: RuleIssue[] = [];
  inv.nodes.forEach((node, i) => {
    for (const [key, value] of Object.entries(node.labels)) {
      const slash = key.lastIndexOf('/');
      const prefix = slash < 0 ? undefined : key.slice(0, slash);
      const name = slash < 0 ? key : key.slice(slash + 1);
      const prefixOk = prefix === undefined || (prefix.length <= 253 && DNS_SUBDOMAIN.test(prefix));
      if (!prefixOk || !LABEL_NAME.test(name)) {
        issues.push(
          error(
            ['nodes', i, 'labels', key],
            `label key ${JSON.stringify(key)} is not a Kubernetes label key — use an optional DNS prefix and "/", then up to 63 letters, digits, "-", "_" or ".", e.g. example.com/zone`,
            'key',
          ),
        );
      } else if (value !== '' && !LABEL_NAME.test(value)) {
        issues.push(
          error(
            ['nodes', i, 'labels', key],
            `label ${key} has value ${JSON.stringify(value)}, which Kubernetes refuses — use up to 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit`,
          ),
        );
      }
    }
  });
  return issues;
};
