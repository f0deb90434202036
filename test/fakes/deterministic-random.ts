import { createHash } from 'node:crypto';

/**
 * Test double for a random source (`crypto.randomBytes`): the same seed always yields the same bytes
 * (SHA-256 in counter mode), so tests can assert exact generated values. Never use outside tests.
 */
export function deterministicRandom(seed = 'revue-pi'): (bytes: number) => Buffer {
  let counter = 0;
  return (bytes: number) => {
    const chunks: Buffer[] = [];
    let have = 0;
    while (have < bytes) {
      const chunk = createHash('sha256').update(`${seed}:${counter++}`).digest();
      chunks.push(chunk);
      have += chunk.length;
    }
    return Buffer.concat(chunks).subarray(0, bytes);
  };
}
