/**
 * Symmetry reduction under jitter, checked against every rank: mean and p95 step time over seeded steps for
 * worlds small enough to simulate every rank, each way. Prints a table (no pass/fail: a validation command).
 *   npx tsx scripts/jitter-order-statistics.ts [steps]
 */
import { loadScenarioText } from '../src/config/index.ts';
import { simulateLoaded } from '../src/pipeline/simulate.ts';

const steps = Number(process.argv[2] ?? 20);
const model = 'base_model: meta-llama/Llama-3.2-1B\nsequence_len: 2048\nmicro_batch_size: 1\ngradient_accumulation_steps: 2\nbf16: true\nflash_attention: true\n';
const cases: [string, string][] = [
  ['DDP, 64 GPUs', `${model}simulation: {hardware: dgx-h100, num_nodes: 8, jitter: 0.05, steps: ${steps}}\n`],
  ['FSDP2, 64 GPUs', `${model}fsdp_version: 2\nsimulation: {hardware: dgx-h100, num_nodes: 8, jitter: 0.05, steps: ${steps}}\n`],
  ['FSDP2 × TP 8, 64 GPUs', `${model}fsdp_version: 2\ntensor_parallel_size: 8\nsimulation: {hardware: dgx-h100, num_nodes: 8, jitter: 0.05, steps: ${steps}}\n`],
  ['FSDP2, 64 GPUs, GA 1', `${model.replace('gradient_accumulation_steps: 2', 'gradient_accumulation_steps: 1')}fsdp_version: 2\nsimulation: {hardware: dgx-h100, num_nodes: 8, jitter: 0.05, steps: ${steps}}\n`],
  ['FSDP2 no reshard, 64 GPUs, GA 1', `${model.replace('gradient_accumulation_steps: 2', 'gradient_accumulation_steps: 1')}fsdp_version: 2\nfsdp_config: {reshard_after_forward: false}\nsimulation: {hardware: dgx-h100, num_nodes: 8, jitter: 0.05, steps: ${steps}}\n`],
  ['FSDP1, 64 GPUs, GA 1', `${model.replace('gradient_accumulation_steps: 2', 'gradient_accumulation_steps: 1')}fsdp_version: 1\nsimulation: {hardware: dgx-h100, num_nodes: 8, jitter: 0.05, steps: ${steps}}\n`],
  ['FSDP2, 128 GPUs, a straggler', `${model}fsdp_version: 2\nsimulation: {hardware: dgx-h100, num_nodes: 16, jitter: 0.05, steps: ${steps}, stragglers: [{rank: 9, compute_slowdown: 1.1}]}\n`],
];
const pct = (a: number, b: number) => `${(((a - b) / b) * 100).toFixed(2)}%`;
process.stdout.write(`${'case'.padEnd(30)} ${'no jitter s'.padStart(12)} ${'every rank mean'.padStart(16)} ${'classes mean'.padStart(13)} ${'Δ mean'.padStart(8)} ${'every p95'.padStart(10)} ${'classes p95'.padStart(12)} ${'Δ p95'.padStart(8)}\n`);
for (const [name, yaml] of cases) {
  const still = await simulateLoaded(loadScenarioText(yaml.replace('jitter: 0.05', 'jitter: 0'), { name }));
  const every = await simulateLoaded(loadScenarioText(yaml, { name }), { everyRank: true });
  const classes = await simulateLoaded(loadScenarioText(yaml, { name }), { everyRank: false });
  const e = every.result.steps;
  const c = classes.result.steps;
  process.stdout.write(
    `${name.padEnd(30)} ${still.result.step_time_s.toFixed(4).padStart(12)} ${e.mean_s.toFixed(4).padStart(16)} ${c.mean_s.toFixed(4).padStart(13)} ${pct(c.mean_s, e.mean_s).padStart(8)} ${e.p95_s.toFixed(4).padStart(10)} ${c.p95_s.toFixed(4).padStart(12)} ${pct(c.p95_s, e.p95_s).padStart(8)}\n`,
  );
}
