import type { Inventory, InventoryNode } from '../core/inventory/schema.js';
import type { Transport } from '../core/remote/transport.js';
import type { Step } from '../core/step.js';
import { factSections, parseFacts, type BootPageSize, type NodeFacts } from './facts.js';
import { applyPreparation, checkNode, describeChange, planPreparation, verifyAfterReboot, type PrepareChange } from './prepare.js';
import { waitForNewBoot } from './reboot.js';

/** What node preparation's probe knows beforehand. */
export interface ProvisionProbeTarget {
  /** The page size read in the node's boot last time (page-sizes.json): no getconf while that boot lasts. */
  pageSizeOfBoot?: BootPageSize;
}

export interface ProvisionTarget {
  node: InventoryNode;
  inventory: Inventory;
  /** --strict: warnings about the facts (e.g. not aarch64) are errors. */
  strict?: boolean;
}

export interface ProvisionApplyInput<P extends { facts: NodeFacts }> {
  target: ProvisionTarget;
  transport: Transport;
  facts: NodeFacts;
  changes: PrepareChange[];
  /** Told of each change as it is carried out (the report and the log read it while it runs). */
  onChange?: (change: PrepareChange) => void;
  /** Called once the one preparation command has returned, before any reboot wait (or at once when there is none). */
  commandSent?: () => void;
  /** Told when the node has been asked to reboot. */
  onReboot?: (reason: string) => void;
  /** The node's whole probe (every stage's sections), run again after a reboot: it is also the check that it happened. */
  probeAgain: () => Promise<P>;
}

/** Throws, with the node named, when the command fails or the node does not come back. */
export interface ProvisionApplied<P> {
  described: string[];
  rebooted: boolean;
  /** The probe of the new boot (absent without a reboot). */
  probed?: P;
  /** What the new boot shows is still not as planned (verifyAfterReboot): each a sentence naming the node and file. */
  problemsAfterReboot: string[];
}

/** Node preparation (boot config, hostname, the promiscuous-mode unit, the reboot that makes them count) as a Step. */
export const provisionStep = {
  phase: 'prepare',
  probe: {
    sections: (target: ProvisionProbeTarget) => factSections(target.pageSizeOfBoot),
    read: (answer: Map<string, string>) => parseFacts(answer),
  },
  check: (facts: NodeFacts, target: ProvisionTarget) => checkNode(facts, target.node, { strict: target.strict === true }),
  plan: (facts: NodeFacts, target: ProvisionTarget) => planPreparation(facts, target.node, target.inventory),
  describe: describeChange,
  apply: applyProvision,
} satisfies Step<{
  probeTarget: ProvisionProbeTarget;
  facts: NodeFacts;
  planTarget: ProvisionTarget;
  change: PrepareChange;
  applyInput: ProvisionApplyInput<{ facts: NodeFacts }>;
  applied: ProvisionApplied<{ facts: NodeFacts }>;
}>;

async function applyProvision<P extends { facts: NodeFacts }>(input: ProvisionApplyInput<P>): Promise<ProvisionApplied<P>> {
  const { target, transport, changes } = input;
  if (changes.length === 0) {
    input.commandSent?.();
    return { described: [], rebooted: false, problemsAfterReboot: [] };
  }
  const described: string[] = [];
  await applyPreparation(transport, changes, {
    onChange: (change) => {
      described.push(describeChange(change));
      input.onChange?.(change);
    },
  });
  input.commandSent?.();
  const reboot = changes.find((c) => c.kind === 'reboot');
  if (!reboot) return { described, rebooted: false, problemsAfterReboot: [] };
  described.push(describeChange(reboot));
  input.onReboot?.(reboot.reason);
  const timeoutMs = target.inventory.pi.rebootTimeoutSeconds * 1000;
  const probed = await waitForNewBoot(transport, input.facts.bootId, timeoutMs, input.probeAgain);
  return { described, rebooted: true, probed, problemsAfterReboot: verifyAfterReboot(probed.facts, target.node, target.inventory) };
}
