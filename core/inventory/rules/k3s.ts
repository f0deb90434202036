import path from 'node:path';
import { formatPath, type PathSegment } from '../path.js';
import { error, fileStateOf, type InventoryRule, type RuleIssue } from './rule.js';

/** K3s: a release name or a channel (not both), and the air-gap files on the laptop. */

export const K3S_VERSION_PATTERN = /^v\d+\.\d+\.\d+\+k3s\d+$/;
const K3S_CHANNEL_PATTERN = /^(stable|latest|testing|v\d+\.\d+)$/;

export const k3sVersionFormat: InventoryRule = (inv) => {
  const issues: RuleIssue[] = [];
  const { version, channel } = inv.k3s;
  if (version !== undefined && !K3S_VERSION_PATTERN.test(version)) {
    const close = /^v?(\d+\.\d+\.\d+)(\+k3s(\d+))?$/.exec(version.trim());
    const suggestion = close
      ? ` — did you mean "v${close[1]}+k3s${close[3] ?? '1'}"?`
      : ' — copy a release name from https://github.com/k3s-io/k3s/releases, e.g. v1.33.5+k3s1';
    issues.push(error(['k3s', 'version'], `k3s.version must look like vX.Y.Z+k3sN${suggestion}`));
  }
  if (channel !== undefined && !K3S_CHANNEL_PATTERN.test(channel)) {
    issues.push(error(['k3s', 'channel'], 'k3s.channel must be stable, latest, testing or a minor version such as v1.33'));
  }
  if (version !== undefined && channel !== undefined) {
    issues.push(error(['k3s', 'channel'], 'set k3s.version or k3s.channel, not both — the installer ignores the channel when a version is given; remove one'));
  }
  return issues;
};

const AIRGAP_FILES = {
  binary: 'the k3s-arm64 binary of the K3s release',
  images: 'the k3s-airgap-images-arm64 tarball of the K3s release',
  installScript: 'a saved copy of https://get.k3s.io',
} as const;

export const airgapFilesExist: InventoryRule = (inv, ctx) => {
  const airgap = inv.k3s.airgap;
  if (airgap === undefined) return [];
  const issues: RuleIssue[] = [];
  for (const key of Object.keys(AIRGAP_FILES) as (keyof typeof AIRGAP_FILES)[]) {
    const file = path.resolve(ctx.baseDir, airgap[key]);
    const state = fileStateOf(ctx, file);
    const segments: PathSegment[] = ['k3s', 'airgap', key];
    if (state === 'missing') {
      issues.push(error(segments, `file ${file} not found — put ${AIRGAP_FILES[key]} there, or fix the path (relative paths start at the inventory's folder)`));
    } else if (state === 'folder') {
      issues.push(error(segments, `${file} is a folder — point ${formatPath(segments)} at ${AIRGAP_FILES[key]} itself`));
    } else if (state === 'unreadable') {
      issues.push(error(segments, `${file} cannot be read (permission denied) — check its owner and mode`));
    }
  }
  return issues;
};
