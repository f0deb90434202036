import { IMAGE_REPOSITORIES, hasPinnedTag, isImageKey } from '../images.js';
import { didYouMean } from '../messages.js';
import type { PathSegment } from '../path.js';
import { error, type InventoryRule, type RuleIssue } from './rule.js';

/** The workloads: image overrides that exist and are pinned, a domain Revue's web UI can use. */

/** `workloads.images` overrides must name an image the workloads use and pin it (a tag other than latest, or a digest). */
export const imageOverridesKnown: InventoryRule = (inv) => {
  const issues: RuleIssue[] = [];
  const keys = Object.keys(IMAGE_REPOSITORIES);
  for (const [key, ref] of Object.entries(inv.workloads.images)) {
    const segments: PathSegment[] = ['workloads', 'images', key];
    if (!isImageKey(key)) {
      const suggestion = didYouMean(key, keys);
      const fix = suggestion === undefined ? `use one of: ${keys.join(', ')}` : `did you mean "${suggestion}"?`;
      issues.push(error(segments, `unknown image ${JSON.stringify(key)} — ${fix}`, 'key'));
    } else if (!hasPinnedTag(ref)) {
      issues.push(
        error(segments, `${key} must name a fixed tag or digest, not latest or none — write it as repository:tag, e.g. ${IMAGE_REPOSITORIES[key]}:1.2.3`),
      );
    }
  }
  return issues;
};

/**
 * Revue's web UI (v3.1.14, frontend/src/utils/RequestHelper.ts) calls its services as <service>.localhost when its own
 * URL contains "localhost", and as revue-<service> otherwise; revue-pi routes and prints the hosts for the latter.
 */
export const domainWithoutLocalhost: InventoryRule = (inv) => {
  if (!inv.workloads.revue || !inv.cluster.domain.includes('localhost')) return [];
  return [
    error(
      ['cluster', 'domain'],
      `cluster.domain "${inv.cluster.domain}" contains "localhost": Revue's web UI would then call its services as <service>.localhost, which revue-pi does not route — choose another domain, e.g. revue.lan`,
    ),
  ];
};
