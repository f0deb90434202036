/** MetalLB's address pools from the inventory, with the fixed addresses in a pool of their own. */
import { RevuePiError } from '../core/errors.js';
import { type AddressBlock, formatAddressBlock, parseAddressBlock, parseIPv4 } from '../core/inventory/addresses.js';
import type { Inventory } from '../core/inventory/schema.js';
import type { K8sObject } from './objects.js';
import { METALLB_NAMESPACE } from './labels.js';

/** Name of the generated pool that holds the fixed addresses (ingress, media server, Kafka brokers). */
export const FIXED_POOL_NAME = 'revue-pi-fixed';

/**
 * IPAddressPools and one L2Advertisement announcing all of them. The fixed addresses (network.addresses) are cut out
 * of the inventory's pools and put in a pool of their own with autoAssign off, so MetalLB never hands one of them to
 * another Service; the Services that own them ask for them with the metallb.io/loadBalancerIPs annotation.
 * (Upstream reserved them with one priority pool per address and service selectors; this needs no selectors.)
 */
export function renderMetallbPools(inventory: Inventory): K8sObject[] {
  const pools = inventory.network.metallb.pools;
  const { ingress, mediaServer, kafka } = inventory.network.addresses;
  const fixedFields: [string, string][] = [
    ...(ingress ? [['network.addresses.ingress', ingress] as [string, string]] : []),
    ...(mediaServer ? [['network.addresses.mediaServer', mediaServer] as [string, string]] : []),
    ...(kafka ?? []).map((k, i) => [`network.addresses.kafka[${i}]`, k] as [string, string]),
  ];
  const fixed = [
    ...new Set(
      fixedFields.map(([field, text]) => {
        const ip = parseIPv4(text.trim());
        if (ip === undefined) {
          throw new RevuePiError(`The inventory field ${field} (${text}) is not an IPv4 address.`, {
            code: 'INVENTORY',
            hint: 'Write a single address inside one of network.metallb.pools, e.g. 192.168.1.240.',
          });
        }
        return ip;
      }),
    ),
  ].sort((a, b) => a - b);

  const objects: K8sObject[] = [];
  pools.forEach((p, i) => {
    if (p.name === FIXED_POOL_NAME && fixed.length > 0) {
      throw new RevuePiError(`The inventory field network.metallb.pools[${i}].name uses the reserved name ${FIXED_POOL_NAME}.`, {
        code: 'INVENTORY',
        hint: 'Rename the pool; revue-pi puts the fixed addresses in a pool of that name.',
      });
    }
    const addresses = p.addresses.flatMap((text, j) => {
      const block = parseAddressBlock(text);
      if (!block) {
        throw new RevuePiError(`The inventory field network.metallb.pools[${i}].addresses[${j}] (${text}) is not a CIDR or range.`, {
          code: 'INVENTORY',
          hint: 'Write it like 192.168.1.240/28 or 192.168.1.200-192.168.1.220.',
        });
      }
      const rest = subtractAddresses(block, fixed);
      // Untouched entries keep the operator's spelling (a CIDR stays a CIDR).
      return rest.length === 1 && rest[0]!.first === block.first && rest[0]!.last === block.last ? [text.trim()] : rest.map(formatAddressBlock);
    });
    if (addresses.length === 0) return;
    objects.push({
      apiVersion: 'metallb.io/v1beta1',
      kind: 'IPAddressPool',
      metadata: { name: p.name, namespace: METALLB_NAMESPACE },
      spec: { addresses, autoAssign: true },
    });
  });
  if (fixed.length > 0) {
    objects.push({
      apiVersion: 'metallb.io/v1beta1',
      kind: 'IPAddressPool',
      metadata: { name: FIXED_POOL_NAME, namespace: METALLB_NAMESPACE },
      spec: { addresses: fixed.map((ip) => formatAddressBlock({ first: ip, last: ip })), autoAssign: false },
    });
  }
  if (objects.length === 0) return [];
  objects.push({
    apiVersion: 'metallb.io/v1beta1',
    kind: 'L2Advertisement',
    metadata: { name: 'revue-pi', namespace: METALLB_NAMESPACE },
    spec: { ipAddressPools: objects.map((o) => o.metadata.name) },
  });
  return objects;
}

/** The parts of `block` left after removing the (sorted) addresses `holes`. */
export function subtractAddresses(block: AddressBlock, holes: number[]): AddressBlock[] {
  const out: AddressBlock[] = [];
  let start = block.first;
  for (const h of holes) {
    if (h < start || h > block.last) continue;
    if (h > start) out.push({ first: start, last: h - 1 });
    start = h + 1;
  }
  if (start <= block.last) out.push({ first: start, last: block.last });
  return out;
}
