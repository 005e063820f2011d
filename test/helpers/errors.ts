import { expect } from 'vitest';
import { ShardsimError } from '../../src/util/errors.ts';

/** Runs `fn`, expects it to throw a ShardsimError, and returns it for assertions on its text. */
export function errorOf(fn: () => unknown): ShardsimError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ShardsimError);
    return err as ShardsimError;
  }
  throw new Error('expected a ShardsimError');
}
