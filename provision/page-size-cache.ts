import { join } from 'node:path';
import { readTextIfExists, writePrivateFile } from '../core/state.js';
import type { NodeFacts, BootPageSize } from './facts.js';

/**
 * The page size each node's kernel reported, with the boot it was read in: it cannot change before the node boots
 * again (the kernel picks it), so a probe of the same boot answers it without starting `getconf`. Kept in the
 * cluster's state folder; absent or unreadable → every probe asks getconf.
 */

const CACHE_FILE = 'page-sizes.json';

/** An entry worth keeping: a boot id as the kernel writes it (a UUID) and a page size. */
function isBootPageSize(e: Partial<BootPageSize> | undefined): e is BootPageSize {
  return typeof e?.bootId === 'string' && /^[0-9a-f-]{36}$/.test(e.bootId) && Number.isInteger(e.pageSize) && e.pageSize! > 0;
}

export function readPageSizeCache(stateDir: string): Record<string, BootPageSize> {
  try {
    const parsed = JSON.parse(readTextIfExists(join(stateDir, CACHE_FILE)) ?? '{}') as Record<string, Partial<BootPageSize>>;
    return Object.fromEntries(
      Object.entries(parsed)
        .filter((entry): entry is [string, BootPageSize] => isBootPageSize(entry[1]))
        .map(([name, e]) => [name, { bootId: e.bootId, pageSize: e.pageSize }]),
    );
  } catch {
    return {};
  }
}

/**
 * Records what this run read (nodes without a usable boot id — never reached — are left as they were, so nothing is
 * written that the next read would drop); returns whether the file changed.
 */
export function updatePageSizeCache(stateDir: string, probed: { name: string; facts: Pick<NodeFacts, 'bootId' | 'pageSize'> }[]): boolean {
  const before = readPageSizeCache(stateDir);
  const next = { ...before };
  for (const { name, facts } of probed) {
    const entry = { bootId: facts.bootId, pageSize: facts.pageSize };
    if (isBootPageSize(entry)) next[name] = entry;
  }
  const canonical = (c: Record<string, BootPageSize>) =>
    JSON.stringify(
      Object.fromEntries(
        Object.keys(c)
          .sort()
          .map((k) => [k, c[k]]),
      ),
      null,
      2,
    ) + '\n';
  if (canonical(next) === canonical(before)) return false;
  writePrivateFile(join(stateDir, CACHE_FILE), canonical(next));
  return true;
}
