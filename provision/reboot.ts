import { ConnectionError, RevuePiError } from '../core/errors.js';
import type { Transport } from '../core/remote/transport.js';
import type { NodeFacts } from './facts.js';

/**
 * The reboot is real only when the node answers with a new boot id, not when the old session lingers. Resolves
 * with the probe of the new boot (the probe reads the boot id, so the check costs no round trip of its own).
 */
export async function waitForNewBoot<T extends { facts: NodeFacts }>(
  transport: Transport,
  previousBootId: string,
  timeoutMs: number,
  probe: () => Promise<T>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  // The first new connection waits for the node to close the old one as it goes down (the reboot starts a second after
  // the command, later on a loaded machine): reaching the boot that is ending is caught by the boot id, but costs a
  // connection and a probe. A session that hangs instead of closing is given up on after 10 s.
  let waitForDropMs = 10_000;
  while (Date.now() < deadline) {
    await transport.reconnect(Math.max(1000, deadline - Date.now()), { waitForDropMs });
    waitForDropMs = 0;
    // A dropped session is the node going down or not fully up: try again. Anything else (sudo refused…) is an answer.
    const probed = await probe().catch((error: unknown) => {
      if (error instanceof ConnectionError) return undefined;
      throw error;
    });
    if (probed && probed.facts.bootId !== '' && probed.facts.bootId !== previousBootId) return probed;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new RevuePiError(`Node ${transport.nodeName} did not come back within ${Math.round(timeoutMs / 1000)} s after the reboot.`, {
    code: 'REBOOT_TIMEOUT',
    node: transport.nodeName,
    hint: 'Check its power and network; raise pi.rebootTimeoutSeconds in the inventory for slow boots, then run up again.',
  });
}
