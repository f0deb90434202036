import type { InventoryIssue } from '../../errors.js';
import { formatPath, type PathSegment } from '../path.js';
import type { Inventory } from '../schema.js';

/** The shape every inventory rule has (rules.ts lists them), and the two ways a rule reports. */

/** What a local file the inventory names is: a readable file, absent, a folder, or there but not readable. */
export type FileState = 'file' | 'missing' | 'folder' | 'unreadable';

export interface RuleContext {
  /** The inventory file's folder: relative file paths in the inventory are relative to it. */
  baseDir: string;
  /** Whether a local file exists. Without it (and fileState), the rules that check files report nothing. */
  fileExists?: (file: string) => boolean;
  /** What a local file is (folder, unreadable…); preferred over fileExists. */
  fileState?: (file: string) => FileState;
  /** The environment the secrets are read from. Without it, the *Env fields are not checked for being set. */
  env?: NodeJS.ProcessEnv;
}

export function fileStateOf(ctx: RuleContext, file: string): FileState | undefined {
  if (ctx.fileState) return ctx.fileState(file);
  if (ctx.fileExists) return ctx.fileExists(file) ? 'file' : 'missing';
  return undefined;
}

export interface RuleIssue extends InventoryIssue {
  /** Point at the field's key rather than its value. */
  at?: 'key' | 'value';
}

export type InventoryRule = (inventory: Inventory, ctx: RuleContext) => RuleIssue[];

export const error = (segments: PathSegment[], message: string, at?: 'key'): RuleIssue => ({
  path: formatPath(segments),
  message,
  severity: 'error',
  ...(at ? { at } : {}),
});
export const warning = (segments: PathSegment[], message: string): RuleIssue => ({
  path: formatPath(segments),
  message,
  severity: 'warning',
});
