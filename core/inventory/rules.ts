import type { Inventory } from './schema.js';
import { airgapFilesExist, k3sVersionFormat } from './rules/k3s.js';
import {
  fixedAddressesInPools,
  poolsDoNotOverlap,
  poolsIgnoredWhenDisabled,
  poolsParse,
  poolsWhenNeeded,
  promiscuousNeedsInterface,
  wifiNeedsPromiscuous,
} from './rules/metallb.js';
import { atLeastOneServer, labelsAreValid, noNodeRoleLabels, oddServerCount, uniqueNodeHosts, uniqueNodeNames } from './rules/nodes.js';
import type { InventoryRule, RuleContext, RuleIssue } from './rules/rule.js';
import { envFieldsHoldNames, envVariablesSet, keyFilesExist } from './rules/ssh.js';
import { domainWithoutLocalhost, imageOverridesKnown } from './rules/workloads.js';

/**
 * Semantic rules over an inventory that already has the right shape. Each rule is a named, pure
 * function returning issues with the path of the field at fault; parse.ts adds line:column.
 * Only `airgapFilesExist` and `keyFilesExist` look at the file system, and only through ctx.fileState/fileExists;
 * only `envVariablesSet` looks at the environment, through ctx.env. The rules live in rules/, one file per family
 * (nodes, k3s, metallb, ssh, workloads; rule.ts is their shape); this file lists them in reporting order.
 */

export type { FileState, InventoryRule, RuleContext, RuleIssue } from './rules/rule.js';
export { K3S_VERSION_PATTERN } from './rules/k3s.js';

/** Every rule, in the order their issues are reported for the same line. */
export const inventoryRules: Record<string, InventoryRule> = {
  uniqueNodeNames,
  uniqueNodeHosts,
  atLeastOneServer,
  oddServerCount,
  k3sVersionFormat,
  poolsParse,
  poolsDoNotOverlap,
  fixedAddressesInPools,
  poolsWhenNeeded,
  poolsIgnoredWhenDisabled,
  airgapFilesExist,
  keyFilesExist,
  envFieldsHoldNames,
  envVariablesSet,
  noNodeRoleLabels,
  labelsAreValid,
  wifiNeedsPromiscuous,
  promiscuousNeedsInterface,
  imageOverridesKnown,
  domainWithoutLocalhost,
};

export function checkInventory(inventory: Inventory, ctx: RuleContext): RuleIssue[] {
  return Object.values(inventoryRules).flatMap((rule) => rule(inventory, ctx));
}
