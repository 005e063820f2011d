import { loadScenarioText } from '../../src/config/index.ts';
import { simulateLoaded, type SimulationRun } from '../../src/pipeline/simulate.ts';

/** Simulates an inline scenario with memory recorded, as the report needs. */
export async function runForReport(scenario: Record<string, unknown>, name = 'report-test'): Promise<SimulationRun> {
  return simulateLoaded(loadScenarioText(JSON.stringify(scenario), { name }), { recordMemory: true });
}

/** Small and quick: Llama-3.2-1B, 8 × H100, two micro-batches, checkpointing. */
export const fsdp2Small = {
  base_model: 'meta-llama/Llama-3.2-1B',
  sequence_len: 2048,
  micro_batch_size: 2,
  gradient_accumulation_steps: 2,
  bf16: true,
  flash_attention: true,
  gradient_checkpointing: true,
  fsdp_version: 2,
  fsdp_config: { reshard_after_forward: true },
  simulation: { hardware: 'dgx-h100' },
};

export const ddpSmall = (({ fsdp_version: _v, fsdp_config: _c, gradient_checkpointing: _g, ...rest }) => rest)(fsdp2Small);
