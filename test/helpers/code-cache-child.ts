// A fresh process for test/util/code-cache.test.ts: V8 keeps scripts it compiled in an in-memory cache,
// so whether a compile used the cache file can only be seen in a process that has not compiled it yet.
// Usage: code-cache-child.ts compile FILE ARG | commonjs FILE. Prints {state, result} as JSON.
import { readFileSync } from 'node:fs';
import { compileWithCodeCache, flushCodeCaches, runCommonJsWithCodeCache } from '../../src/util/code-cache.ts';

const [mode, file, arg] = process.argv.slice(2);
if (mode === 'compile') {
  const { fn, state } = compileWithCodeCache<(base: number) => number>(file!, readFileSync(file!, 'utf8'), ['base'], 'test');
  const result = fn(Number(arg));
  flushCodeCaches();
  process.stdout.write(JSON.stringify({ state, result }));
} else {
  const state = runCommonJsWithCodeCache(file!, 'cli');
  flushCodeCaches();
  process.stdout.write(JSON.stringify({ state }));
}
