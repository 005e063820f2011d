import { loadScenarioText } from '../../src/config/index.ts';
import { simulateLoaded, type SimulationRun } from '../../src/pipeline/simulate.ts';

/** Simulates an inline scenario: YAML text or an object of Axolotl keys. */
export async function run(scenario: string | Record<string, unknown>, name = 'test'): Promise<SimulationRun> {
  const text = typeof scenario === 'string' ? scenario : JSON.stringify(scenario);
  return simulateLoaded(loadScenarioText(text, { name }));
}

export const llama8b = {
  base_model: 'meta-llama/Llama-3.1-8B',
  sequence_len: 2048,
  micro_batch_size: 2,
  gradient_accumulation_steps: 1,
  bf16: true,
  flash_attention: true,
};
