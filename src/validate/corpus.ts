import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { loadScenarioFile } from '../config/index.ts';
import { simulateLoaded } from '../pipeline/simulate.ts';
import { ShardsimError } from '../util/errors.ts';

/**
 * A corpus of real configs (Axolotl's own examples) run the way a user runs them: each file with the corpus
 * folder as the working directory (so `deepspeed: deepspeed_configs/zero3_bf16.json` resolves as Axolotl
 * resolves it), `simulate` without a report or advice. Every config ends one of three ways: simulated,
 * refused with one line (a ShardsimError), or crashed (anything else: a defect).
 */
export type CorpusOutcome =
  | { file: string; status: 'simulated'; adapter: string | undefined; parameters: number; trainableParameters: number; modulesToSave: number; stepSeconds: number; fits: boolean; warnings: number }
  | { file: string; status: 'refused'; reason: RefusalReason; message: string }
  | { file: string; status: 'crashed'; message: string };

/** Why a config is refused, grouped by what it would take to run it (the note on issues 11–12 counts these). */
export type RefusalReason = 'trainer out of scope' | 'model not in catalog' | 'model family not modelled' | 'unsupported combination' | 'input error';

/** Keys whose refusal means a trainer other than supervised causal-LM fine-tuning (config/key-fates.ts). */
const TRAINER_KEYS = new Set(['rl', 'diffusion', 'ebft', 'kd_trainer', 'trainer_cls', 'hatchery', 'trl', 'vllm', 'nemo_gym_enabled', 'num_labels', 'reward_model', 'process_reward_model']);

/** Classify a refusal by the key it names and its one line (the messages are the project's own). */
export function refusalReason(key: string | undefined, message: string): RefusalReason {
  if (key !== undefined && TRAINER_KEYS.has(key)) return 'trainer out of scope';
  if (/unknown model/.test(message)) return 'model not in catalog';
  if (/unsupported model_type|model_type .* is not (yet )?modelled/i.test(message)) return 'model family not modelled';
  if (/Axolotl (refuses|raises)|not compatible|not supported with/i.test(message)) return 'unsupported combination';
  return 'input error';
}

/** Every .yml / .yaml under `root/examples` (the corpus layout), sorted. */
export function corpusFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.ya?ml$/.test(name)) out.push(relative(root, p));
    }
  };
  walk(join(root, 'examples'));
  return out;
}

/** Run one config of the corpus from `root` (the working directory is restored afterwards). */
export async function runCorpusConfig(root: string, file: string): Promise<CorpusOutcome> {
  const cwd = process.cwd();
  process.chdir(root);
  try {
    const loaded = loadScenarioFile(file);
    const run = await simulateLoaded(loaded, { steadyState: true, advice: false });
    const r = run.result;
    const input = loaded.input as { adapter?: unknown; lora_modules_to_save?: unknown };
    return {
      file,
      status: 'simulated',
      adapter: typeof input.adapter === 'string' ? input.adapter : undefined,
      parameters: r.model.parameters,
      trainableParameters: r.model.trainable_parameters,
      modulesToSave: Array.isArray(input.lora_modules_to_save) ? input.lora_modules_to_save.length : 0,
      stepSeconds: r.step_time_s,
      fits: r.memory.fits,
      warnings: r.warnings.length,
    };
  } catch (err) {
    if (err instanceof ShardsimError) return { file, status: 'refused', reason: refusalReason(err.key, err.message), message: err.message };
    return { file, status: 'crashed', message: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
  } finally {
    process.chdir(cwd);
  }
}

/** The corpus summary: simulated / refused by reason / crashed, and LoRA configs whose trainable count is not adapter-sized. */
export function summarizeCorpus(outcomes: readonly CorpusOutcome[]): string {
  const lines: string[] = [];
  const sim = outcomes.filter((o) => o.status === 'simulated');
  const refused = outcomes.filter((o) => o.status === 'refused');
  const crashed = outcomes.filter((o) => o.status === 'crashed');
  const adapters = sim.filter((o) => o.adapter !== undefined);
  lines.push(`${outcomes.length} configs: ${sim.length} simulated (${adapters.length} with an adapter, ${sim.filter((o) => !o.fits).length} out of memory), ${refused.length} refused, ${crashed.length} crashed`);
  const byReason = new Map<string, number>();
  for (const o of refused) byReason.set(o.reason, (byReason.get(o.reason) ?? 0) + 1);
  for (const [reason, n] of [...byReason].sort((a, b) => b[1] - a[1])) lines.push(`  refused, ${reason}: ${n}`);
  for (const o of refused) lines.push(`    [${o.reason}] ${o.file}: ${o.message.slice(0, 160)}`);
  for (const o of crashed) lines.push(`  CRASHED ${o.file}: ${o.message}`);
  return lines.join('\n');
}

// `npm run corpus [folder]`: print the summary (default: ../shared/axolotl-examples).
if (import.meta.url === `file://${process.argv[1]}`) {
  const root = process.argv[2] ?? '../shared/axolotl-examples';
  const outcomes: CorpusOutcome[] = [];
  for (const f of corpusFiles(root)) outcomes.push(await runCorpusConfig(root, f));
  process.stdout.write(summarizeCorpus(outcomes) + '\n');
  for (const o of outcomes) if (o.status === 'simulated') process.stdout.write(`  ok ${o.file}: ${(o.stepSeconds).toFixed(2)} s/step, trainable ${(o.trainableParameters / 1e6).toFixed(1)} M of ${(o.parameters / 1e9).toFixed(2)} B${o.fits ? '' : ', OOM'}\n`);
}
