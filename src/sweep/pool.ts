import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Piscina as PiscinaPool } from 'piscina';
import { runConfig, type ConfigTask } from './run-config.ts';
import type { SweepRow } from './types.ts';

export interface PoolOptions {
  /** Worker threads; 1 runs in this thread (no pool, no start-up cost). */
  jobs: number;
  /** Called after each finished config with the count done so far. */
  onProgress?: (done: number, total: number) => void;
  /** Called with each finished row as it finishes (completion order), e.g. to stream it to a file. */
  onRow?: (row: SweepRow) => void;
  /** Aborting stops submitting, destroys the pool and returns what finished. */
  signal?: AbortSignal;
}

export interface PoolOutcome {
  /** Finished rows in index order (all of them unless interrupted). */
  rows: SweepRow[];
  interrupted: boolean;
}

/**
 * Runs configs on `jobs` piscina worker threads. Results are keyed by grid index and returned in index
 * order, so the output does not depend on `jobs` or on which worker finished first. Configs travel in
 * chunks of neighbours in the grid (one message each way per chunk, the base scenario cloned once per
 * chunk); submission is windowed (two chunks per thread in flight) so that an interrupt has little queued
 * work to discard.
 */
export async function runConfigs(tasks: readonly ConfigTask[], opts: PoolOptions): Promise<PoolOutcome> {
  const jobs = Math.max(1, Math.min(opts.jobs, tasks.length));
  const entry = jobs > 1 ? workerEntry() : undefined;
  if (!entry) return runInThread(tasks, opts);

  // Loaded here, not at the top: every command's start-up would pay ~20 ms for it (a CommonJS package).
  const { Piscina } = createRequire(import.meta.url)('piscina') as { Piscina: typeof PiscinaPool };
  const pool = new Piscina<ConfigTask[], SweepRow[]>({ ...entry, minThreads: jobs, maxThreads: jobs, idleTimeout: 1000 });
  const chunks = chunked(tasks, chunkSize(tasks.length, jobs));
  const done = new Map<number, SweepRow>();
  const window = jobs * 2;
  let next = 0;
  let failure: unknown;
  let interrupted = false;
  let onAbort = () => {};

  await new Promise<void>((resolveAll) => {
    let inFlight = 0;
    const finishIfIdle = () => {
      if (inFlight === 0 && (next >= chunks.length || interrupted || failure !== undefined)) resolveAll();
    };
    onAbort = () => {
      interrupted = true;
      // destroy() rejects the in-flight runs; their handlers below ignore that and drain inFlight.
      void pool.destroy().finally(finishIfIdle);
    };
    if (opts.signal?.aborted) onAbort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const submit = () => {
      while (!interrupted && failure === undefined && inFlight < window && next < chunks.length) {
        const chunk = chunks[next++]!;
        inFlight++;
        pool.run(chunk).then(
          (rows) => {
            inFlight--;
            for (const row of rows) {
              done.set(row.index, row);
              try {
                opts.onRow?.(row);
              } catch (err) {
                if (failure === undefined) failure = err;
              }
            }
            if (!interrupted) opts.onProgress?.(done.size, tasks.length);
            submit();
            finishIfIdle();
          },
          (err: unknown) => {
            inFlight--;
            // A rejection is the pool itself failing (runConfig never throws), or destroy() after an interrupt.
            if (!interrupted && failure === undefined) failure = err;
            finishIfIdle();
          },
        );
      }
    };
    submit();
    finishIfIdle();
  });
  opts.signal?.removeEventListener('abort', onAbort);
  if (!interrupted) await pool.destroy();
  if (failure !== undefined) throw failure;
  return { rows: [...done.values()].sort((a, b) => a.index - b.index), interrupted };
}

/**
 * Configs per message: enough to make messaging negligible (a config simulates in milliseconds), few
 * enough that every thread gets many chunks (balance) and progress moves often: at most 16, and at least
 * 8 chunks per thread.
 */
export function chunkSize(configs: number, jobs: number): number {
  return Math.max(1, Math.min(16, Math.floor(configs / (jobs * 8))));
}

export function chunked<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

async function runInThread(tasks: readonly ConfigTask[], opts: PoolOptions): Promise<PoolOutcome> {
  const rows: SweepRow[] = [];
  for (const task of tasks) {
    if (opts.signal?.aborted) return { rows, interrupted: true };
    const row = await runConfig(task);
    rows.push(row);
    opts.onRow?.(row);
    opts.onProgress?.(rows.length, tasks.length);
    // Let a pending SIGINT handler run between configs.
    await new Promise<void>((r) => setImmediate(r));
  }
  return { rows, interrupted: opts.signal?.aborted ?? false };
}

/**
 * The worker's file and loader flags, or undefined when there is no worker file to start.
 * - From source (tsx): the worker must be the `.ts` file and the thread needs tsx's loader: hooks
 *   installed with tsx's `register()` in bin/shardsim.js are not inherited by worker threads on Node 20,
 *   and under vitest there is no tsx at all, so pass `--import <tsx loader>` explicitly (ecosystem.md
 *   §3.7: tsx's `.js`→`.ts` mapping does not apply to imports from node_modules, where piscina lives).
 * - From the esbuild bundle: `worker.js` is its own bundle in dist/, next to this code (main.cjs). A
 *   bundle built without it falls back to the source worker through tsx.
 */
export function workerEntry(here: string = import.meta.url): { filename: string; execArgv: string[] } | undefined {
  const exists = (u: URL) => existsSync(fileURLToPath(u));
  const fromSource = (u: URL) => {
    const tsxLoader = pathToFileURL(createRequire(here).resolve('tsx')).href;
    return { filename: u.href, execArgv: [...process.execArgv, '--import', tsxLoader] };
  };
  if (here.endsWith('.ts')) return fromSource(new URL('./worker.ts', here));
  const bundled = new URL('./worker.js', here);
  if (exists(bundled)) return { filename: bundled.href, execArgv: [...process.execArgv] };
  const source = new URL('../src/sweep/worker.ts', here);
  return exists(source) ? fromSource(source) : undefined;
}
