import { accessSync, constants as fsConstants, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import { InventoryError, type InventoryIssue } from '../errors.js';
import { loadLocated, type LocatedDocument } from './locate.js';
import { shapeIssues } from './messages.js';
import { formatPath, parsePath, type PathSegment } from './path.js';
import { checkInventory, type FileState, type RuleIssue } from './rules.js';
import { decodeInventory, falseSpaceIssues, unclosedQuoteBefore } from './text.js';
import { inventorySchema, type Inventory } from './schema.js';

/**
 * YAML text → a checked Inventory. Every problem becomes an InventoryIssue with its field path and
 * line:column: YAML syntax errors, shape errors (zod) and the rules of rules.ts. Errors are thrown
 * together as one InventoryError; warnings are returned.
 */

export interface ParseOptions {
  /** What `~` in file paths stands for. Default: the current user's home folder. */
  homeDir?: string;
  /** Checks local files (airgap files, SSH keys). Without it (and fileState) those checks are skipped. */
  fileExists?: (file: string) => boolean;
  /** What a local file is: folder, unreadable… (preferred over fileExists). */
  fileState?: (file: string) => FileState;
  /** Checks that the *Env fields name variables that are set here. Without it, they are not checked. */
  env?: NodeJS.ProcessEnv;
}

export interface ParsedInventory {
  /** With defaults filled in and local file paths made absolute (`~` expanded, relative to the inventory's folder). */
  inventory: Inventory;
  warnings: InventoryIssue[];
}

/**
 * Reads and checks the inventory file, and the local files it names. With `env`, the *Env fields must name variables
 * set there (for the commands that log in). Throws InventoryError (exit code 2) for anything wrong with it.
 */
export function loadInventory(file: string, opts: { env?: NodeJS.ProcessEnv } = {}): ParsedInventory {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (cause) {
    throw new InventoryError(file, [{ path: '', message: readProblem(cause, file), severity: 'error' }]);
  }
  const decoded = decodeInventory(bytes);
  if ('issue' in decoded) throw new InventoryError(file, [decoded.issue]);
  return parseInventory(decoded.text, file, { homeDir: os.homedir(), fileState: localFileState, ...(opts.env ? { env: opts.env } : {}) });
}

/** What a local file is, from this process's point of view. */
export function localFileState(file: string): FileState {
  try {
    if (statSync(file).isDirectory()) return 'folder';
    accessSync(file, fsConstants.R_OK);
    return 'file';
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'EACCES' || code === 'EPERM' ? 'unreadable' : 'missing';
  }
}

/** Checks inventory text; `file` names it in messages and anchors relative paths. Touches no file unless given fileExists. */
export function parseInventory(text: string, file: string, options: ParseOptions = {}): ParsedInventory {
  const source = text.startsWith('\uFEFF') ? text.slice(1) : text;
  // Before YAML: it reads a no-break space as part of a word, and then fails (if at all) somewhere else.
  const falseSpaces = falseSpaceIssues(source);
  if (falseSpaces.length > 0) throw new InventoryError(file, falseSpaces);
  let doc: LocatedDocument;
  try {
    doc = loadLocated(source);
  } catch (cause) {
    if (cause instanceof yaml.YAMLException) throw new InventoryError(file, [syntaxIssue(cause, source)]);
    throw cause;
  }

  if (doc.value === undefined || doc.value === null) {
    throw new InventoryError(file, [
      { path: '', line: 1, column: 1, message: 'the inventory is empty — start from a copy of inventory.example.yaml', severity: 'error' },
    ]);
  }
  if (typeof doc.value !== 'object' || Array.isArray(doc.value)) {
    const position = doc.locate([]);
    throw new InventoryError(file, [
      {
        path: '',
        ...position,
        message: 'the inventory must be a mapping of sections (cluster:, nodes:, …) — start from a copy of inventory.example.yaml',
        severity: 'error',
      },
    ]);
  }

  const baseDir = path.dirname(path.resolve(file));
  const homeDir = options.homeDir ?? os.homedir();
  const check = (inventory: Inventory) =>
    checkInventory(resolveLocalPaths(inventory, baseDir, homeDir), {
      baseDir,
      fileExists: options.fileExists,
      fileState: options.fileState,
      env: options.env,
    }).map((issue) => positioned(issue, doc));

  const result = inventorySchema.safeParse(doc.value);
  if (!result.success) {
    const shape = shapeIssues(result.error, inventorySchema);
    const issues = shape.map<InventoryIssue>((issue) => ({
      path: formatPath(issue.path),
      ...doc.locate(issue.path, issue.at),
      message: issue.message,
      severity: 'error',
    }));
    // So that one pass shows every error: when the faulty fields are all optional, the rest still gets the
    // semantic rules — except next to a faulty field, where its real value is unknown.
    const rest = withoutFields(
      doc.value,
      shape.map((i) => i.path),
    );
    const restResult = rest === undefined ? undefined : inventorySchema.safeParse(rest);
    if (restResult?.success) {
      const faulty = shape.map((i) => formatPath(i.path.slice(0, -1)));
      const nearFaulty = (p: string) => faulty.some((parent) => p === parent || p.startsWith(`${parent}.`) || p.startsWith(`${parent}[`));
      issues.push(...check(restResult.data).filter((i) => i.severity === 'error' && !nearFaulty(i.path)));
    }
    throw new InventoryError(file, sortIssues(issues));
  }

  const inventory = resolveLocalPaths(result.data, baseDir, homeDir);
  const found = check(result.data);
  const errors = found.filter((i) => i.severity === 'error');
  if (errors.length > 0) throw new InventoryError(file, sortIssues(errors));
  return { inventory, warnings: sortIssues(found.filter((i) => i.severity === 'warning')) };
}

/** A deep copy of `value` without the fields at `paths`; undefined when a path ends at a list item (removing it would renumber the rest). */
function withoutFields(value: unknown, paths: PathSegment[][]): unknown {
  const copy = structuredClone(value) as Record<string, unknown>;
  for (const p of paths) {
    const last = p[p.length - 1];
    if (last === undefined || typeof last === 'number') return undefined;
    let parent: unknown = copy;
    for (const segment of p.slice(0, -1)) {
      parent = typeof parent === 'object' && parent !== null ? (parent as Record<string | number, unknown>)[segment] : undefined;
    }
    if (typeof parent !== 'object' || parent === null || Array.isArray(parent)) return undefined;
    delete (parent as Record<string, unknown>)[last];
  }
  return copy;
}

/** `~/x` → home/x, `keys/id` → <inventory folder>/keys/id, for every field naming a local file. */
export function resolveLocalPaths(inventory: Inventory, baseDir: string, homeDir: string): Inventory {
  const local = (p: string | undefined): string | undefined => (p === undefined ? undefined : resolveLocalPath(p, baseDir, homeDir));
  const configFile = inventory.ssh.configFile === 'none' ? 'none' : local(inventory.ssh.configFile);
  const ssh = { ...inventory.ssh, keyPath: local(inventory.ssh.keyPath), knownHostsFile: local(inventory.ssh.knownHostsFile), configFile };
  if (inventory.ssh.jump) ssh.jump = dropUndefined({ ...inventory.ssh.jump, keyPath: local(inventory.ssh.jump.keyPath) });
  const airgap = inventory.k3s.airgap;
  return {
    ...inventory,
    ssh: dropUndefined(ssh),
    k3s: {
      ...inventory.k3s,
      ...(airgap
        ? { airgap: { binary: local(airgap.binary) as string, images: local(airgap.images) as string, installScript: local(airgap.installScript) as string } }
        : {}),
    },
    nodes: inventory.nodes.map((node) => (node.ssh?.keyPath === undefined ? node : { ...node, ssh: { ...node.ssh, keyPath: local(node.ssh.keyPath) } })),
  };
}

export function resolveLocalPath(p: string, baseDir: string, homeDir: string): string {
  if (p === '~') return homeDir;
  if (p.startsWith('~/')) return path.join(homeDir, p.slice(2));
  return path.resolve(baseDir, p);
}

function positioned(issue: RuleIssue, doc: LocatedDocument): InventoryIssue {
  const { at, ...rest } = issue;
  return { ...rest, ...doc.locate(parsePath(issue.path), at) };
}

function syntaxIssue(e: yaml.YAMLException, text: string): InventoryIssue {
  const reason = e.reason || e.message;
  // A quote never closed makes YAML fail at the end of the file, or lines later: say where it opens.
  const quote = unclosedQuoteBefore(text, e.mark?.position ?? text.length);
  if (quote) {
    const before = text.slice(0, quote.start).split('\n');
    const kind = quote.quote === '"' ? 'double' : 'single';
    return {
      path: '',
      line: before.length,
      column: (before[before.length - 1] as string).length + 1,
      message: `YAML syntax error: the ${kind} quote opened here is never closed on its line — close it where the value ends, e.g. host: ${quote.quote}192.168.1.101${quote.quote}`,
      severity: 'error',
    };
  }
  // js-yaml gives no position for a second document: point at the "---" that starts it.
  const line = e.mark ? e.mark.line + 1 : /single document/.test(reason) ? secondDocumentLine(text) : undefined;
  return {
    path: '',
    line,
    column: e.mark ? e.mark.column + 1 : line === undefined ? undefined : 1,
    message: `YAML syntax error: ${reason} — ${syntaxFix(reason)}`,
    severity: 'error',
  };
}

function secondDocumentLine(text: string): number | undefined {
  let content = false;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (/^---(\s|$)/.test(line)) {
      if (content) return i + 1;
      content = true; // the first "---" opens the first document
    } else if (!/^\s*(#.*)?$/.test(line) && !line.startsWith('%')) {
      content = true;
    }
  }
  return undefined;
}

function syntaxFix(reason: string): string {
  if (/duplicated mapping key/.test(reason)) return 'a key may appear only once in a mapping; remove or rename the second one';
  if (/tab characters/.test(reason)) return 'indent with spaces, not tabs';
  if (/indentation|indented/.test(reason)) return 'line this entry up with the entries around it, using spaces';
  if (/colon is missed|key-value separator/.test(reason)) return 'write "key: value", with a space after the colon';
  if (/unexpected end of the stream|missed comma|missed a closing|end of the stream/.test(reason)) return 'close every quote and bracket that is opened';
  if (/unknown tag/.test(reason)) return 'remove the !tag; the inventory uses plain YAML';
  if (/single document/.test(reason)) return 'keep one document in the file (no second "---")';
  return 'check the quoting and indentation here';
}

function readProblem(cause: unknown, file: string): string {
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return `file not found — create it from inventory.example.yaml (cp inventory.example.yaml ${file}) or pass -i with the right path`;
  if (code === 'EISDIR') return 'is a folder, not a file — pass -i with the inventory file inside it';
  if (code === 'EACCES' || code === 'EPERM') return "cannot be read (permission denied) — check the file's owner and mode";
  return `cannot be read (${code ?? String(cause)})`;
}

function sortIssues(issues: InventoryIssue[]): InventoryIssue[] {
  return [...issues].sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity) || (a.column ?? 0) - (b.column ?? 0));
}

function dropUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
