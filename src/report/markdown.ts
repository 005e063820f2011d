import type { SimulationResult } from '../metrics/result.ts';
import { terminalSummary } from './summary.ts';

/** summary.md: the terminal summary in a code block, plus the key figures as a table. */
export function markdownSummary(r: SimulationResult): string {
  return [
    `# ${r.scenario}`,
    '',
    '| metric | value |',
    '|---|---|',
    `| step time | ${r.step_time_s.toFixed(4)} s |`,
    `| tokens/s/GPU | ${r.throughput.tokens_per_s_per_gpu.toFixed(0)} |`,
    `| MFU | ${(100 * r.throughput.mfu).toFixed(1)}% |`,
    `| exposed communication | ${(100 * r.communication.exposed_ratio).toFixed(1)}% of the step |`,
    `| peak memory (allocated) | ${(r.memory.peak_bytes / 2 ** 30).toFixed(2)} GiB of ${(r.memory.capacity_bytes / 2 ** 30).toFixed(2)} GiB (${r.memory.fits ? 'fits' : 'OOM'}) |`,
    '',
    '```',
    terminalSummary(r),
    '```',
    '',
  ].join('\n');
}
