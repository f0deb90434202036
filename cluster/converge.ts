/** Converging one node: install or reconfigure K3s, watching its journal, and the node-password rejection fix. */
import { readFile } from 'node:fs/promises';
import { RemoteCommandError, RevuePiError, trimOutput } from '../core/errors.js';
import type { FileToWrite, RunResult, Transport } from '../core/remote/transport.js';
import { sh } from '../core/remote/shell.js';
import { buildProbeScript, parseProbeOutput, type ProbeSection } from '../core/remote/probe.js';
import { k3sProbeSections, parseK3sFacts } from './facts.js';
import { airgapUploads, buildInstallScript, wantedK3sVersion } from './install.js';
import { buildForgetNodeScript, buildJournalCommand, buildRestartCommand, isNodePasswordRejected, joinRefusal, restartedAt } from './nodes.js';
import { K3S_CONFIG_PATH, NODE_PASSWORD_PATH, TOKEN_FILE_PATH, unitFor } from '../core/k3s-paths.js';
import { describeClusterChange, describeStalePasswordRemoved, stalePasswordKeptMessage, type ClusterChange } from './plan.js';
import { sha256Hex, tokenFileContent } from './token.js';
import { forgetStaleMember } from './first-server-run.js';
import { type ClusterPhaseOptions, type Session, PHASE, STEP, consentToReplace, fail, formatSeconds, summary, message, sleep, journalTail } from './session.js';

export async function converge(opts: ClusterPhaseOptions, s: Session, token: string, first: Session): Promise<void> {
  const { emit, log } = opts;
  const name = s.node.name;
  if (s.changes.length === 0) {
    emit({ type: 'node-step', phase: PHASE, node: name, step: STEP, status: 'unchanged' });
    return;
  }
  emit({ type: 'node-step', phase: PHASE, node: name, step: STEP, status: 'running', detail: summary(s.changes.map(describeClusterChange)) });
  try {
    const transport = s.transport;
    if (!transport) throw new RevuePiError(`no connection to node ${name}.`, { code: 'CONNECTION', node: name });
    for (const change of s.changes) log.write(`[${name}] ${describeClusterChange(change)}`);
    const staleRemoved = await applyChanges(opts, s, transport, token, first);
    // What was planned and done, then anything learnt on the way (a node password that had to be cleared).
    s.step.changes.unshift(...s.changes.map((c) => (c.kind === 'forget-stale-member' && staleRemoved ? staleRemoved : describeClusterChange(c))));
    s.step.status = 'changed';
    emit({ type: 'node-step', phase: PHASE, node: name, step: STEP, status: 'changed', detail: summary(s.step.changes) });
  } catch (error) {
    fail(opts, s, message(error));
  }
}

/**
 * A node's changes in one round trip: the token and config.yaml go into place (root-only), then — in the same
 * shell, only if both were written — the installer or the restart runs. Air-gap files, large, are uploaded first.
 * A stale member to remove goes first, with consent (nothing else is done without it). Returns that removal's
 * report line, if any.
 */
async function applyChanges(opts: ClusterPhaseOptions, s: Session, transport: Transport, token: string, first: Session): Promise<string | undefined> {
  const name = s.node.name;
  const stale = s.changes.find((c): c is Extract<ClusterChange, { kind: 'forget-stale-member' }> => c.kind === 'forget-stale-member');
  const staleRemoved = stale ? await forgetStaleMember(opts, s, stale) : undefined;
  const files: FileToWrite[] = s.changes.flatMap((c) =>
    c.kind === 'write-token'
      ? [{ path: c.path, content: tokenFileContent(token), mode: 0o600 }]
      : c.kind === 'write-config'
        ? [{ path: c.path, content: c.content, mode: 0o600 }]
        : [],
  );
  const action = s.changes.find((c): c is Extract<ClusterChange, { kind: 'install' | 'restart' }> => c.kind === 'install' || c.kind === 'restart');
  if (!action) {
    const result = await transport.writeFilesThenRun(files, sh``, { sudo: true, timeoutMs: 60_000 });
    if (result.code !== 0)
      throw new RemoteCommandError(
        name,
        `Writing ${files.map((f) => f.path).join(' and ')}`,
        'install (upload) → …',
        result.code,
        `${result.stderr}\n${result.stdout}`,
      );
    return staleRemoved;
  }
  if (action.kind === 'install') {
    for (const upload of airgapUploads(opts.inventory)) {
      let content: Buffer;
      try {
        content = await readLocalOnce(opts, upload.local);
      } catch (error) {
        throw new RevuePiError(`The air-gap file ${upload.local} (k3s.airgap in the inventory) cannot be read: ${message(error)}`, {
          code: 'AIRGAP_FILE',
          node: name,
          cause: error,
        });
      }
      await transport.writeFile(upload.remote, content, { mode: upload.mode, sudo: true });
    }
    // The installed binary's fingerprint (and version, unless pinned) are read in the same round trip.
    const pinned = opts.inventory.k3s.airgap ? undefined : wantedK3sVersion(opts.inventory);
    const script = sh`${buildInstallScript(opts.inventory, s.node, { role: action.role })}${buildProbeScript(installedBinarySections(pinned))}`;
    const timeoutMs = opts.readyTimeoutMs + 300_000;
    const result = await runWatchingJournal(opts, s, () => transport.writeFilesThenRun(files, script, { sudo: true, timeoutMs }), first);
    // K3s may have given up on a stale node password before the watcher saw it: clear it and start again.
    if (result.code !== 0 && (await fixRejectedPassword(opts, s, first, { afterFailure: true }))) {
      await learnInstalledBinary(s, transport);
      return staleRemoved;
    }
    if (result.code !== 0) {
      const journal = result.code === 124 ? await journalTail(transport, unitFor(s.node.role)) : '';
      const output = `${result.stderr}\n${result.stdout}`;
      throw new RemoteCommandError(
        name,
        `Installing K3s (${action.role})`,
        script,
        result.code,
        result.code === 124
          ? `did not finish within ${formatSeconds(timeoutMs)} s. ${journal ? `Last lines of its ${unitFor(s.node.role)} journal:\n${journal}` : trimOutput(output)}`
          : output,
        `Fix the cause on ${name} and run up again: only the unfinished nodes are redone.`,
      );
    }
    learnInstalledBinaryFrom(s, result.stdout, pinned);
    learnWrittenFiles(s, result.stdout, files);
    return staleRemoved;
  }
  const result = await runWatchingJournal(
    opts,
    s,
    () => transport.writeFilesThenRun(files, buildRestartCommand(action.unit), { sudo: true, timeoutMs: opts.readyTimeoutMs }),
    first,
  );
  s.restartedAt = restartedAt(result.stdout);
  if (result.code !== 0 && (await fixRejectedPassword(opts, s, first, { afterFailure: true }))) return staleRemoved;
  if (result.code !== 0) {
    const journal = await journalTail(transport, action.unit);
    throw new RemoteCommandError(
      name,
      `Restarting ${action.unit}`,
      buildRestartCommand(action.unit),
      result.code,
      `${result.stderr}\n${result.stdout}\n${journal}`,
    );
  }
  return staleRemoved;
}

/**
 * Air-gap files are read once per run and the same buffer goes to every node: agents install in parallel,
 * and a copy per node of a ~70 MB binary plus the images tarball would add up fast.
 */
const localFilesPerRun = new WeakMap<ClusterPhaseOptions, Map<string, Promise<Buffer>>>();
function readLocalOnce(opts: ClusterPhaseOptions, path: string): Promise<Buffer> {
  let files = localFilesPerRun.get(opts);
  if (!files) localFilesPerRun.set(opts, (files = new Map()));
  let content = files.get(path);
  if (!content) {
    content = readFile(path);
    files.set(path, content);
  }
  return content;
}

/**
 * The probe sections that learn an installed binary: its fingerprint, and its version — asked of the binary only
 * when no version was pinned (a channel, an air-gap binary): a pinned install that succeeded installed that one.
 */
function installedBinarySections(pinned: string | undefined): ProbeSection[] {
  return k3sProbeSections().flatMap((x) =>
    x.name === 'k3s_binary' || x.name === 'k3s_files' || (x.name === 'k3s_version' && pinned === undefined) ? [x] : [],
  );
}

/**
 * After an agent's install: its root-only files as they now are — the fingerprint the install command's probe read,
 * the content revue-pi wrote (or probed, where it wrote none) — so that already the next run probes it without sudo.
 * Not for servers: their own token file is not readable without root anyway (RootFilesCache).
 */
function learnWrittenFiles(s: Session, stdout: string, written: FileToWrite[]): void {
  const fingerprint = parseK3sFacts(parseProbeOutput(stdout)).rootFilesFingerprint;
  if (s.node.role !== 'agent' || !fingerprint) return;
  const text = (path: string) => {
    const f = written.find((w) => w.path === path);
    return f === undefined ? undefined : typeof f.content === 'string' ? f.content : Buffer.from(f.content).toString('utf8');
  };
  const config = text(K3S_CONFIG_PATH);
  const token = text(TOKEN_FILE_PATH);
  s.k3s = {
    ...s.k3s,
    rootFilesFingerprint: fingerprint,
    config: config ?? s.k3s.config,
    tokenFileSha256: token !== undefined ? sha256Hex(token) : s.k3s.tokenFileSha256,
    nodePassword: fingerprint.split('\n').some((line) => line.endsWith(` ${NODE_PASSWORD_PATH}`)),
  };
}

/** After an install: the binary's version and fingerprint, for the report and the next run's probe cache. */
function learnInstalledBinaryFrom(s: Session, stdout: string, pinned: string | undefined): void {
  const facts = parseK3sFacts(parseProbeOutput(stdout));
  s.k3s = { ...s.k3s, installedVersion: pinned ?? facts.installedVersion, binaryFingerprint: facts.binaryFingerprint };
}

/** The same, in a round trip of its own (after an install that had to be helped through a node-password rejection). */
async function learnInstalledBinary(s: Session, transport: Transport): Promise<void> {
  const result = await transport.run(buildProbeScript(installedBinarySections(undefined)), { sudo: true, timeoutMs: 30_000 }).catch(() => undefined);
  if (!result || result.code !== 0) return;
  learnInstalledBinaryFrom(s, result.stdout, undefined);
}

/**
 * Runs an install or restart while watching the unit's journal: a node re-imaged under an old name is
 * refused ("Node password rejected") and would keep the installer waiting; removing the stale node object
 * and password secret on the first server (with consent) lets it through (K3s retries on its own). Without
 * consent the node fails at once instead of waiting for the installer.
 */
async function runWatchingJournal(opts: ClusterPhaseOptions, s: Session, start: () => Promise<RunResult>, first: Session): Promise<RunResult> {
  const isFirst = s === first;
  let done = false;
  const command = start().finally(() => {
    done = true;
  });
  if (isFirst) return command;
  // Every 10 s: a rejected node password is rare, and each look costs the node a login, sudo and journalctl.
  const interval = opts.journalCheckIntervalMs ?? 10_000;
  const watcher = (async () => {
    while (!done) {
      await sleep(interval, () => done);
      if (done) return;
      if (await fixRejectedPassword(opts, s, first)) return;
    }
  })().catch((error: unknown) => {
    // Only the refusal ends the wait; a look that failed leaves it to the command's own result.
    if (error instanceof RevuePiError && error.code === PASSWORD_KEPT) throw error;
  });
  command.catch(() => undefined);
  const result = await Promise.race([command, watcher.then(() => command)]);
  await watcher;
  return result;
}

/**
 * While a node is not Ready yet: a node-password rejection is cleared (fixRejectedPassword); a refusal that waiting
 * will not cure (a wrong token: K3s retries it for ever) throws at once, with the journal, instead of at the end of the
 * Ready timeout.
 */
export async function checkJournal(opts: ClusterPhaseOptions, s: Session, first: Session): Promise<void> {
  if (s === first || !s.transport) return;
  const unit = unitFor(s.node.role);
  const journal = (await s.transport.run(buildJournalCommand(unit, 50), { sudo: true, timeoutMs: 15_000 })).stdout;
  if (await fixRejectedPassword(opts, s, first, {}, journal)) return;
  const refusal = joinRefusal(journal);
  if (!refusal) return;
  throw new RevuePiError(
    `K3s on node ${s.node.name} cannot join the cluster: ${refusal}. Last lines of its ${unit} journal:\n${journal.trim().split('\n').slice(-10).join('\n')}`,
    {
      code: 'JOIN_REFUSED',
      node: s.node.name,
      hint: `Check ${TOKEN_FILE_PATH} on ${s.node.name} against the cluster's token, then run up again.`,
    },
  );
}

const PASSWORD_KEPT = 'NODE_PASSWORD_KEPT';

/**
 * Checks the node's journal for a node-password rejection and, once per node, clears it: with the operator's consent
 * (--replace-node NAME, or asked right now, on its own) the stale node object and its password secret go on the first
 * server, then the unit starts again — an agent always; a server only when its own start already failed
 * (`afterFailure`), since a start still under way retries by itself. Without consent nothing is deleted and it throws,
 * saying how to consent. True when it acted; a later look awaits that clearing, then is true only after a failed start.
 */
async function fixRejectedPassword(
  opts: ClusterPhaseOptions,
  s: Session,
  first: Session,
  how: { afterFailure?: boolean } = {},
  journalText?: string,
): Promise<boolean> {
  const transport = s.transport;
  if (!transport || s === first) return false;
  const unit = unitFor(s.node.role);
  const seenBefore = s.passwordFix !== undefined;
  if (!s.passwordFix) {
    const journal = journalText ?? (await transport.run(buildJournalCommand(unit, 50), { sudo: true, timeoutMs: 15_000 })).stdout;
    if (!isNodePasswordRejected(journal)) return false;
    // Another look may have seen it while this one read the journal.
    s.passwordFix ??= clearStalePassword(opts, s, first);
  }
  await s.passwordFix;
  // Handled once per node: a later journal look goes on with its other checks; a failed start still counts as helped.
  if (seenBefore && !how.afterFailure) return false;
  const name = s.node.name;
  const restart = (unit === 'k3s-agent' || how.afterFailure) && !s.passwordRestarted;
  if (restart) {
    s.passwordRestarted = true;
    const result = await transport.run(buildRestartCommand(unit), { sudo: true, timeoutMs: opts.readyTimeoutMs });
    s.restartedAt = restartedAt(result.stdout);
    if (result.code !== 0) {
      const tail = await journalTail(transport, unit);
      throw new RemoteCommandError(
        name,
        `Restarting ${unit} after clearing its stale node password`,
        buildRestartCommand(unit),
        result.code,
        `${result.stderr}\n${result.stdout}\n${tail}`,
      );
    }
  }
  const text = s.passwordCleared!(restart ? unit : undefined);
  if (text) {
    s.step.changes.push(text);
    s.step.status = 'changed';
    s.report.warnings.push(`node ${name}: ${text}`);
    opts.emit({ type: 'node-warning', node: name, message: text });
  }
  return true;
}

/**
 * Asks for consent, then deletes the re-imaged node's stale node object and password secret on the first server.
 * Sets s.passwordCleared: the report's line, given once (with the unit restarted, if it was).
 */
async function clearStalePassword(opts: ClusterPhaseOptions, s: Session, first: Session): Promise<void> {
  const name = s.node.name;
  const removal = { node: name, via: first.node.name };
  const consent = await consentToReplace(opts, { kind: 'node-password', ...removal });
  opts.log.write(
    `[${name}] K3s refused the node password (the node was re-imaged): its node object and password secret on ${first.node.name}: ${consent === 'flag' ? `deleting (--replace-node ${name})` : consent === 'typed' ? 'deleting (the operator typed the cluster name)' : 'kept (no consent)'}`,
  );
  if (!consent) throw new RevuePiError(stalePasswordKeptMessage(removal, opts.inventoryPath), { code: PASSWORD_KEPT, node: name });
  const forget = await first.transport!.run(buildForgetNodeScript(name), { sudo: true, timeoutMs: 60_000 });
  if (forget.code !== 0) {
    throw new RemoteCommandError(
      first.node.name,
      `Removing the stale node object of ${name}`,
      buildForgetNodeScript(name),
      forget.code,
      `${forget.stderr}\n${forget.stdout}`,
    );
  }
  let said = false;
  s.passwordCleared = (restarted) => {
    if (said) return undefined;
    said = true;
    return describeStalePasswordRemoved(removal, consent, restarted);
  };
}
