/** What a secret is replaced with in anything shown or logged. */
export const MASK = '***';

/**
 * Replaces every occurrence of each secret in `text` with `***`. Longer secrets go first, so a secret that
 * contains another is masked whole. Empty and undefined entries are ignored.
 */
export function maskSecrets(text: string, secrets: readonly (string | undefined)[]): string {
  const list = [...new Set(secrets.filter((s): s is string => typeof s === 'string' && s !== ''))].sort((a, b) => b.length - a.length);
  let out = text;
  for (const secret of list) out = out.split(secret).join(MASK);
  return out;
}
