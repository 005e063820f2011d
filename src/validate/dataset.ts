import { readTextFile } from '../util/read-text.ts';
import { ShardsimError } from '../util/errors.ts';

/** One published measurement (shared/DESIGN.md validation data contract). */
export interface ValidationRow {
  id: string;
  source: string;
  hardware: string;
  num_nodes: number;
  scenario: Record<string, unknown>;
  measured: {
    tokens_per_s_per_gpu?: number;
    mfu?: number;
    step_time_s?: number;
    peak_memory_bytes?: number;
    peak_memory_kind?: 'allocated' | 'reserved' | 'active' | 'unspecified';
  };
  notes?: string;
}

export function readValidationRows(path: string): ValidationRow[] {
  // Bounded, UTF-8 only (util/read-text.ts); JSON rows hold ~10 heap bytes per byte of text.
  const text = readTextFile(path, { what: 'validation data', key: '--data', fix: 'point --data at a .jsonl file such as ../shared/validation/training-calibration.jsonl', heapBytesPerByte: 10 });
  return text
    .split('\n')
    .map((l, i) => [l.trim(), i + 1] as const)
    .filter(([l]) => l.length > 0)
    .map(([l, line]) => {
      try {
        const row = JSON.parse(l) as ValidationRow;
        const missing = (['id', 'source', 'hardware', 'scenario', 'measured'] as const).filter((k) => !row[k]);
        if (missing.length > 0) throw new Error(`missing ${missing.join(', ')}`);
        if (typeof row.scenario !== 'object' || typeof row.measured !== 'object') throw new Error('scenario and measured must be objects');
        if (!Number.isInteger(row.num_nodes) || row.num_nodes < 1) throw new Error('num_nodes must be a positive integer');
        return row;
      } catch (e) {
        throw new ShardsimError(`${path}:${line}: not a validation row (${(e as Error).message})`, { fix: 'one JSON object per line: {id, source, hardware, num_nodes, scenario, measured}' });
      }
    });
}
