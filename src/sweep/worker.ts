// The piscina worker: one config per call. Imports only the simulation pipeline (no reports, no
// charts, no CLI), since every worker thread pays its own module-loading cost (ecosystem.md §3.7).
import { runConfig, type ConfigTask } from './run-config.ts';
import type { SweepRow } from './types.ts';

export default function simulateConfig(task: ConfigTask): Promise<SweepRow> {
  return runConfig(task);
}
