import { stripControlChars } from './remote/remote-text.js';
import type { ShellScript } from './remote/shell.js';

/**
 * One base class for every error a user can meet. `hint` says what to do; `node` names the node when
 * there is one. Messages are sentences meant for the operator, never stack traces.
 */
export class RevuePiError extends Error {
  readonly code: string;
  readonly hint?: string;
  readonly node?: string;

  constructor(message: string, opts: { code: string; hint?: string; node?: string; cause?: unknown }) {
    // Messages often carry what a node printed: no control sequence of it reaches the terminal.
    super(stripControlChars(message), opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = opts.code;
    this.hint = opts.hint === undefined ? undefined : stripControlChars(opts.hint);
    this.node = opts.node;
  }
}

export interface InventoryIssue {
  /** Dot path of the field, e.g. `nodes[2].host`. */
  path: string;
  line?: number;
  column?: number;
  message: string;
  severity: 'error' | 'warning';
}

/** Bad input: exit code 2, raised before any connection is opened. */
export class InventoryError extends RevuePiError {
  readonly file: string;
  readonly issues: InventoryIssue[];
  constructor(file: string, issues: InventoryIssue[]) {
    const lines = issues.map((i) => formatIssue(file, i));
    super(`The inventory ${file} is not valid:\n${lines.join('\n')}`, { code: 'INVENTORY' });
    this.file = file;
    this.issues = issues;
  }
}

export function formatIssue(file: string, issue: InventoryIssue): string {
  const where = issue.line === undefined ? file : `${file}:${issue.line}:${issue.column ?? 1}`;
  const path = issue.path ? ` ${issue.path}:` : '';
  return `  ${where}${path} ${issue.message}`;
}

/** The node could not be reached or the SSH session broke. */
export class ConnectionError extends RevuePiError {
  constructor(node: string, message: string, opts: { hint?: string; cause?: unknown } = {}) {
    super(message, { code: 'CONNECTION', node, ...opts });
  }
}

/** The node's host key differs from the one recorded: refused, never overwritten silently. */
export class HostKeyMismatchError extends RevuePiError {
  constructor(node: string, host: string, known: string, presented: string, knownHostsFile: string) {
    super(`The SSH host key of node ${node} (${host}) has changed: expected ${known}, got ${presented}. ` + `Refusing to connect.`, {
      code: 'HOST_KEY_CHANGED',
      node,
      hint: `If the node was re-imaged, remove its line from ${knownHostsFile} and run again; otherwise check for a man-in-the-middle.`,
    });
  }
}

/** A remote command failed. `command` is already masked of secrets; output is trimmed to the telling lines. */
export class RemoteCommandError extends RevuePiError {
  readonly command: string;
  readonly exitCode: number | null;
  readonly output: string;
  constructor(node: string, what: string, command: string | ShellScript, exitCode: number | null, output: string, hint?: string) {
    super(`${what} failed on node ${node} (exit ${exitCode ?? 'signal'}): ${trimOutput(output)}`, {
      code: 'REMOTE_COMMAND',
      node,
      hint,
    });
    this.command = typeof command === 'string' ? command : command.text;
    this.exitCode = exitCode;
    this.output = output;
  }
}

/** Keeps the last lines of a command's output, which are the ones that say why it failed. */
export function trimOutput(output: string, maxLines = 6, maxChars = 600): string {
  const lines = stripControlChars(output)
    .trim()
    .split('\n')
    .filter((l) => l.trim() !== '');
  let kept = lines.slice(-maxLines).join('\n');
  if (kept.length > maxChars) kept = '…' + kept.slice(-maxChars);
  return kept === '' ? '(no output)' : kept;
}
