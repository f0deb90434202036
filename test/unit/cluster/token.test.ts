import { describe, expect, it } from 'vitest';
import { generateToken, tokenFileContent, tokenSecret } from '../../../cluster/token.js';
import { deterministicRandom } from '../../fakes/deterministic-random.js';

describe('generateToken', () => {
  it('is 32 random bytes as hex (no ":" that K3s would split on)', () => {
    const random = deterministicRandom('token-test');
    const expected = deterministicRandom('token-test')(32).toString('hex');
    const token = generateToken(random);
    expect(token).toBe(expected);
    expect(token).toMatch(/^[0-9a-f]{64}$/);
  });
  it('differs per call with the real random source', () => {
    expect(generateToken()).not.toBe(generateToken());
  });
  it('is written with a trailing newline and read back without the K10 prefix', () => {
    expect(tokenFileContent('abc')).toBe('abc\n');
    expect(tokenSecret('K10abc::server:s3cret\n')).toBe('s3cret');
    expect(tokenSecret('plain')).toBe('plain');
  });
});
