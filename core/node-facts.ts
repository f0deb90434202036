import type { AddressBlock } from './inventory/addresses.js';

/**
 * What a node is, as provision/facts.ts reads it in the single probe round trip, and what follows from it: shared
 * by every stage (the cluster and the workloads decide from the same facts).
 */
export interface NodeFacts {
  model: string;
  arch: string;
  kernel: string;
  pageSize: number;
  os: { id: string; versionId: string; codename: string; prettyName: string };
  memoryBytes: number;
  cpuCores: number;
  memoryCgroupActive: boolean;
  bootedCmdline: string;
  bootId: string;
  /** `/boot/firmware/cmdline.txt` on Bookworm and later, `/boot/cmdline.txt` on older images. */
  cmdlinePath?: string;
  cmdline?: string;
  configPath?: string;
  config?: string;
  hostname: string;
  hosts: string;
  promiscUnit?: string;
  /** The IPv4 subnets the node is directly on (subnets.ts); undefined when not read (plan --offline). */
  subnets?: AddressBlock[];
}

/** Pi model family from the device-tree string; undefined when it is not a Raspberry Pi. */
export function piGeneration(model: string): number | undefined {
  const match = /Raspberry Pi (\d+)/.exec(model);
  if (match) return Number(match[1]);
  if (/Raspberry Pi Compute Module (\d+)/.test(model)) return Number(/Compute Module (\d+)/.exec(model)![1]);
  return undefined;
}

/** MongoDB ≥5 needs ARMv8.2-A: the Pi 5's Cortex-A76 has it, the Pi 4's A72 does not. */
export function supportsArmV82(facts: Pick<NodeFacts, 'model' | 'arch'>): boolean {
  if (facts.arch !== 'aarch64') return facts.arch === 'x86_64';
  const generation = piGeneration(facts.model);
  return generation === undefined ? false : generation >= 5;
}
