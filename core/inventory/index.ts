/** The inventory: its schema, the parser with positions, the semantic rules and the IPv4 helpers. */
export * from './schema.js';
export { loadInventory, parseInventory, resolveLocalPath, resolveLocalPaths, type ParseOptions, type ParsedInventory } from './parse.js';
export { checkInventory, inventoryRules, K3S_VERSION_PATTERN, type InventoryRule, type RuleContext, type RuleIssue } from './rules.js';
export {
  addressBlockProblem,
  blockContains,
  blockSize,
  blocksOverlap,
  formatAddressBlock,
  formatIPv4,
  parseAddressBlock,
  parseIPv4,
  type AddressBlock,
} from './addresses.js';
export { fieldLabel, formatPath, parsePath, type PathSegment } from './path.js';
export { InventoryError, type InventoryIssue } from '../errors.js';
