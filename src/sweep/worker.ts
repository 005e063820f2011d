// The piscina worker: one chunk of configs per call (pool.ts), simulated in order. Imports only the
// simulation pipeline (no reports, no charts, no CLI), since every worker thread pays its own module-loading
// cost (ecosystem.md §3.7).
import { runConfig, type ConfigTask } from './run-config.ts';
import type { SweepRow } from './types.ts';

export default async function simulateConfigs(tasks: ConfigTask[]): Promise<SweepRow[]> {
  const rows: SweepRow[] = [];
  for (const task of tasks) rows.push(await runConfig(task));
  return rows;
}
