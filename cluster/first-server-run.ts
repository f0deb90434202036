/** The cluster phase's half of first-server.ts: what it reads over SSH to decide, and the stale member's removal. */
import { RemoteCommandError, RevuePiError } from '../core/errors.js';
import type { FirstServerStart } from './config.js';
import { ETCD_MEMBERS_COMMAND, parseEtcdMembers } from './day-two/etcd.js';
import { decideFirstServerStart, staleMemberOf } from './first-server.js';
import { buildForgetNodeScript } from './nodes.js';
import { describeStaleMemberRemoved, staleMemberKeptMessage, type ClusterChange } from './plan.js';
import { type ClusterPhaseOptions, type Session, consentToReplace, message, sleep } from './session.js';

export interface FirstServerContext {
  start: FirstServerStart;
  /** See ClusterPlanContext.staleMember. */
  staleMember?: { member: string } | null;
}

/**
 * Decides how the first server takes part, from every listed server's probe (a live one means the cluster runs there);
 * when it is to join one, that server's etcd member list is read for a member the wiped first server left behind.
 */
export async function resolveFirstServer(opts: ClusterPhaseOptions, first: Session, otherServers: Session[]): Promise<FirstServerContext | { error: string }> {
  // The other servers' facts as probed (before any preparation or reboot of theirs): whether K3s ran there is known
  // then, so the first server waits for none of them. A server whose probe failed is unknown.
  const others = otherServers.map((s) => ({ node: s.node, k3s: s.report.error === undefined ? s.k3s : undefined }));
  const decided = decideFirstServerStart(opts.inventory, { node: first.node, k3s: first.k3s }, others);
  if (decided.kind === 'refused') return { error: decided.message };
  if (decided.kind !== 'join' || !decided.via) return { start: decided };
  const via = otherServers.find((s) => s.node.name === decided.via)!;
  first.joinVia = via;
  opts.log.write(`[${first.node.name}] has no K3s while ${via.node.name} runs the cluster: it joins ${decided.server} instead of starting a cluster`);
  if (!via.transport) return { start: decided };
  const read = await via.transport.run(ETCD_MEMBERS_COMMAND, { sudo: true, timeoutMs: 30_000 });
  if (read.code !== 0)
    return {
      error: `first server ${first.node.name} is to join ${via.node.name}, but etcd's member list could not be read there (${(read.stderr || read.stdout).trim().split('\n')[0]}): fix K3s on ${via.node.name} and run up again.`,
    };
  let stale;
  try {
    stale = staleMemberOf(parseEtcdMembers(read.stdout), first.node);
  } catch (error) {
    return { error: `first server ${first.node.name}: etcd's member list on ${via.node.name} could not be read: ${message(error)}` };
  }
  return { start: decided, staleMember: stale ? { member: stale.name } : null };
}

/**
 * Removes the wiped first server's Node on the live server, which removes its etcd member (K3s's member controller),
 * then waits until the member list no longer names it: only then is a new member under that node name admitted.
 * Only with the operator's consent, asked for on its own (--replace-node NAME, or asked right now): without it
 * nothing is deleted and it throws, saying how to consent. Returns the report's line for what was done.
 */
export async function forgetStaleMember(
  opts: ClusterPhaseOptions,
  s: Session,
  change: Extract<ClusterChange, { kind: 'forget-stale-member' }>,
): Promise<string> {
  const via = s.joinVia;
  if (!via?.transport)
    throw new RevuePiError(`no connection to ${change.via}, which was to remove the stale etcd member of ${s.node.name}.`, {
      code: 'STALE_MEMBER',
      node: s.node.name,
    });
  const removal = { node: change.node, ...(change.member !== undefined ? { member: change.member } : {}), via: change.via };
  const consent = await consentToReplace(opts, { kind: 'stale-member', ...removal });
  opts.log.write(
    `[${s.node.name}] its stale Node and etcd member on ${change.via}: ${consent === 'flag' ? `deleting (--replace-node ${change.node})` : consent === 'typed' ? 'deleting (the operator typed the cluster name)' : 'kept (no consent)'}`,
  );
  if (!consent) throw new RevuePiError(staleMemberKeptMessage(removal, opts.inventoryPath), { code: 'STALE_MEMBER_KEPT', node: s.node.name });
  const forget = buildForgetNodeScript(change.node);
  const result = await via.transport.run(forget, { sudo: true, timeoutMs: 60_000 });
  if (result.code !== 0)
    throw new RemoteCommandError(via.node.name, `Removing the stale Node ${change.node}`, forget, result.code, `${result.stderr}\n${result.stdout}`);
  const deadline = Date.now() + 60_000;
  for (;;) {
    const read = await via.transport.run(ETCD_MEMBERS_COMMAND, { sudo: true, timeoutMs: 30_000 });
    const left = read.code === 0 ? staleMemberOf(parseEtcdMembers(read.stdout), s.node) : undefined;
    if (read.code === 0 && !left) return describeStaleMemberRemoved(removal, consent);
    if (Date.now() > deadline)
      throw new RevuePiError(
        `etcd member ${left?.name ?? change.member ?? `${change.node}-…`} of the wiped server ${change.node} is still listed on ${via.node.name} a minute after its Node was deleted, so ${change.node} cannot join under its name.`,
        {
          code: 'STALE_MEMBER',
          node: s.node.name,
          hint: `Check \`sudo k3s kubectl get --raw /db/info\` on ${via.node.name}; once the member is gone, run up again.`,
        },
      );
    await sleep(opts.pollIntervalMs ?? 2_000);
  }
}
