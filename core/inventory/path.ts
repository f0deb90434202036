/**
 * Field paths as the user reads them: `nodes[2].host`, `network.metallb.pools[0].addresses[1]`,
 * `nodes[0].labels["example.com/zone"]` (keys that are not plain identifiers go in quotes).
 */

export type PathSegment = string | number;

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;

export function formatPath(segments: readonly PathSegment[]): string {
  let out = '';
  for (const segment of segments) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (PLAIN_KEY.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/** The inverse of formatPath. */
export function parsePath(path: string): PathSegment[] {
  const segments: PathSegment[] = [];
  const re = /\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]|\.?([A-Za-z_][A-Za-z0-9_-]*)/gy;
  let match: RegExpExecArray | null;
  while (re.lastIndex < path.length && (match = re.exec(path)) !== null) {
    if (match[1] !== undefined) segments.push(Number(match[1]));
    else if (match[2] !== undefined) segments.push(JSON.parse(match[2]) as string);
    else if (match[3] !== undefined) segments.push(match[3]);
  }
  return segments;
}

/** The name a message uses for the field: its key plus any indexes after it (`taints[1]`, `role`). */
export function fieldLabel(segments: readonly PathSegment[]): string {
  let i = segments.length - 1;
  while (i >= 0 && typeof segments[i] === 'number') i--;
  if (i < 0) return segments.length === 0 ? 'the inventory' : formatPath(segments);
  const key = segments[i] as string;
  const head = PLAIN_KEY.test(key) ? key : JSON.stringify(key);
  return head + formatPath(segments.slice(i + 1));
}
