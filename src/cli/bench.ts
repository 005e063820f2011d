import { loadScenarioText } from '../config/index.ts';
import { simulateLoaded } from '../pipeline/simulate.ts';

/**
 * Wall-time benchmark: a Llama-3.1-70B FSDP2 step on 16 × dgx-h100 and an 8B DDP step; prints simulated
 * events per second. Timings are printed, never asserted (machines are noisy).
 */
export async function runBench(): Promise<void> {
  const cases: [string, string][] = [
    ['llama-3.1-70b fsdp2 16 nodes', `base_model: meta-llama/Llama-3.1-70B\nfsdp_version: 2\nfsdp_config: {reshard_after_forward: true}\nsequence_len: 4096\nmicro_batch_size: 1\ngradient_accumulation_steps: 4\nbf16: true\nflash_attention: true\ngradient_checkpointing: true\nsimulation: {hardware: dgx-h100, num_nodes: 16}\n`],
    ['llama-3.1-8b ddp 1 node', `base_model: meta-llama/Llama-3.1-8B\nsequence_len: 2048\nmicro_batch_size: 4\ngradient_accumulation_steps: 2\nbf16: true\nflash_attention: true\ngradient_checkpointing: true\nsimulation: {hardware: dgx-h100}\n`],
    ['llama-3.1-8b ddp jitter, 8 ranks simulated', `base_model: meta-llama/Llama-3.1-8B\nsequence_len: 2048\nmicro_batch_size: 4\ngradient_accumulation_steps: 2\nbf16: true\nflash_attention: true\ngradient_checkpointing: true\nsimulation: {hardware: dgx-h100, jitter: 0.02}\n`],
  ];
  process.stdout.write('case                                          wall (ms)   tasks     events   events/s\n');
  for (const [name, yaml] of cases) {
    const loaded = loadScenarioText(yaml, { name });
    await simulateLoaded(loaded); // warm-up (module loading, JIT)
    const runs = 5;
    const t0 = performance.now();
    let last;
    for (let i = 0; i < runs; i++) last = await simulateLoaded(loadScenarioText(yaml, { name }));
    const ms = (performance.now() - t0) / runs;
    const ev = last!.timeline.eventsProcessed;
    process.stdout.write(`${name.padEnd(44)} ${ms.toFixed(1).padStart(9)} ${String(last!.plan.tasks.length).padStart(7)} ${String(ev).padStart(10)} ${Math.round(ev / (ms / 1e3)).toLocaleString('en-US').padStart(10)}\n`);
  }
}
