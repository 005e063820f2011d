#!/usr/bin/env node
// Runs the CLI from the esbuild bundle in dist/ (built by `npm install` via the prepare script) when it is
// newer than every source file; otherwise straight from the TypeScript sources through tsx's loader.
// The bundle starts in ~0.1 s; tsx alone costs ~0.35 s of startup. The bundle is compiled through V8's
// code cache (src/util/code-cache.ts), one per command: a run after the first skips compiling it.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { setFlagsFromString } from 'node:v8';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// V8 tiers a function up to TurboFan after ~66 KB of its bytecode has run (--interrupt-budget=67584).
// One `simulate` or `compare` is short: most functions get optimised, in background threads, and then
// barely run again — on the 70B 16-GPU report that compilation was ~0.5 s of its ~2.5 s CPU. A 15×
// budget optimises only what stays hot: 70B report 2.5 → 2.0 s CPU, 405B report 3.0 → 2.0 s, an 8B
// 128-GPU every-rank run 1.1 → 0.8 s; a 3 s run of hot loops (8B, 512 GPUs, every rank) pays +5–8%.
// Sweeps and benchmarks are long runs of hot loops and keep V8's default. Set before anything else is
// loaded: the flag is read whenever a function's budget is (re)set.
// After each full GC, V8 sets the next old-generation limit to the live size times a factor it picks between
// 1.1 and 4 (src/heap/heap-controller.cc, MemoryController::GrowingFactor), unless --heap-growing-percent
// fixes it; the flag is read at every such recomputation, so setting it here takes effect from the first full
// GC on. A report run's old generation grows from ~25 MB after its first full GC (during the simulation) to
// ~140 MB at exit (the 70B 16-GPU scenario; the 405B one alike): with a factor of 7 it ends without the second
// full GC and its concurrent marking of ~100 MB that the process drops a moment later. 70B report 1.90 → 1.76
// s CPU (median of 8 alternating runs), peak RSS ~295 → ~330 MB. A long run would pile up to 7× its live heap
// in garbage between full GCs instead (405B on 16,384 GPUs, 20 jittered steps with a report: peak RSS 417 →
// 658 MB, no CPU saved): past 10⁵ task simulations the pipeline gives V8 its own factor back
// (pipeline/limits.ts settleHeapGrowth).
if (['simulate', 'compare'].includes(process.argv[2] ?? '')) setFlagsFromString('--interrupt-budget=1000000 --heap-growing-percent=600');

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bundle = join(root, 'dist', 'main.cjs');

function newestSourceMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSourceMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

if (!process.env.SHARDSIM_FROM_SOURCE && existsSync(bundle) && statSync(bundle).mtimeMs >= newestSourceMtime(join(root, 'src'))) {
  const { runCommonJsWithCodeCache } = createRequire(import.meta.url)('../dist/code-cache.cjs');
  const command = process.argv[2] ?? '';
  runCommonJsWithCodeCache(bundle, /^[a-z][a-z-]{0,30}$/.test(command) ? command : 'other');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}
