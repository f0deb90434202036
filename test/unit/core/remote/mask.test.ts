import { describe, expect, it } from 'vitest';
import { maskSecrets } from '../../../../core/remote/mask.js';

describe('maskSecrets', () => {
  it('replaces every occurrence of every secret', () => {
    expect(maskSecrets('pw=hunter2; again hunter2; token=abc.def', ['hunter2', 'abc.def'])).toBe('pw=***; again ***; token=***');
  });

  it('masks the longer secret whole when one contains another', () => {
    expect(maskSecrets('secret-long and secret', ['secret', 'secret-long'])).toBe('*** and ***');
  });

  it('treats regex characters literally', () => {
    expect(maskSecrets('a.*b and axxb', ['a.*b'])).toBe('*** and axxb');
  });

  it('ignores empty and undefined secrets and leaves clean text alone', () => {
    expect(maskSecrets('nothing to hide', ['', undefined])).toBe('nothing to hide');
    expect(maskSecrets('nothing to hide', [])).toBe('nothing to hide');
  });
});
