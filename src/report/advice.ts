import type { SimulationResult } from '../metrics/result.ts';
import { count, gib, seconds } from './format.ts';

/** `fsdp_version: 2, gradient_checkpointing: true`; a removed key reads `fsdp_config: (removed)`. */
export function changeText(change: Record<string, unknown>): string {
  return Object.entries(change)
    .map(([k, v]) => `${k}: ${v === null ? '(removed)' : typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join(', ');
}

/** The advisor's top entries for the terminal summary; empty when the run carries no advice. */
export function adviceSummary(r: SimulationResult, top = 3): string {
  const debug = r.advice_debug;
  if (!r.advice || !debug || debug.mode === 'fits') return '';
  const head = debug.mode === 'out_of_memory'
    ? `advice  does not fit: ${debug.evaluated} configurations from the OOM checklist simulated (fitting first, fastest first)`
    : `advice  fits with room to spare: ${debug.evaluated} faster configurations simulated (only those that fit and are faster)`;
  const lines = [head];
  if (r.advice.length === 0) {
    lines.push(debug.mode === 'out_of_memory' ? '  nothing in the checklist made it fit (see advice_debug in --json)' : '  none was faster and still fit');
  }
  r.advice.slice(0, top).forEach((a, i) => {
    const verdict = a.fits ? 'fits' : 'still OOM';
    lines.push(`  ${i + 1}. ${changeText(a.change)}`);
    lines.push(`     → ${verdict}: peak ${gib(a.peak_bytes)} (needs ~${gib(a.required_bytes)}), ${seconds(a.step_time_s)}/step, ${count(a.tokens_per_s_per_gpu)} tokens/s/GPU, global batch ${a.global_batch_size}`);
  });
  if (debug.skipped.length > 0) lines.push(`  (${debug.skipped.length} not simulated: ${[...new Set(debug.skipped.map((s) => s.reason.split(' — ')[0]))].join('; ')})`);
  return lines.join('\n');
}
