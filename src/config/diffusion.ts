import { ShardsimError } from '../util/errors.ts';

/**
 * Axolotl's diffusion language-model trainer (integrations/diffusion, LLaDA-style), switched on by listing
 * `axolotl.integrations.diffusion.DiffusionPlugin` in `plugins:` (plugin.py `get_trainer_cls` returns
 * DiffusionTrainer whenever the plugin is loaded; the nested `diffusion:` block only tunes it, args.py
 * defaults otherwise). One step per micro-batch (trainer.py `_compute_diffusion_loss`):
 *
 * - `_forward_process`: per row a time t ~ U(0, 1), p_mask = (1 − eps)·t + eps, each real non-special token
 *   replaced by the mask token with probability p_mask — so E[masked] = ((1 + eps) / 2) of the real tokens.
 * - ONE forward with gradients over the noisy rows, with `create_bidirectional_attention_mask` (utils.py): a
 *   4-D boolean [b, 1, s, s] mask, every query attending to every key of its own document. transformers hands a
 *   4-D mask to the attention function unchanged, and SDPA with an explicit mask runs non-causally
 *   (`is_causal` only without a mask) in a kernel that computes every score of the row; eager too.
 * - The model is called without labels, so its full 16-bit logits are materialised whatever loss kernel is
 *   configured; `shift_logits_to_input_positions` concatenates them into a shifted copy, the masked positions
 *   are gathered (`logits[batch_indices, seq_indices]`), upcast (`.float()`) and go through
 *   `F.cross_entropy(reduction="none")`, divided by p_mask under importance weighting. No second forward, no
 *   reference model, no generation inside the step.
 *
 * The noise-schedule keys (noise_schedule, min/max_mask_ratio, num_diffusion_steps) are not read by the
 * trainer; the generation keys drive a callback every `generation_interval` steps on rank 0, outside the
 * training step.
 */
export interface Diffusion {
  kind: 'diffusion';
  /** Expected fraction of the real tokens that are masked and enter the loss: E[p_mask] = (1 + eps) / 2. */
  maskedFraction: number;
}

export interface DiffusionInput {
  plugins?: readonly string[] | null;
  diffusion?: { eps?: number | undefined } | null;
}

/** The DiffusionConfig default eps (integrations/diffusion/args.py). */
export const DIFFUSION_DEFAULT_EPS = 1e-3;

const PLUGIN = /(^|\.)DiffusionPlugin$/;

/** Whether the config runs the diffusion trainer: the plugin is listed (its keys alone do nothing). */
export function diffusionPluginListed(s: DiffusionInput): boolean {
  return (s.plugins ?? []).some((p) => PLUGIN.test(String(p)));
}

export function resolveDiffusion(s: DiffusionInput): Diffusion | undefined {
  if (!diffusionPluginListed(s)) return undefined;
  const eps = s.diffusion?.eps ?? DIFFUSION_DEFAULT_EPS;
  return { kind: 'diffusion', maskedFraction: (1 + eps) / 2 };
}

/**
 * The attention backends that apply the diffusion trainer's 4-D boolean mask: SDPA and eager. The plugin's
 * README lists "No flash attention support": flash kernels take no 4-D mask (transformers passes it through
 * unchanged) and flex_attention would add the boolean mask to the scores as a bias.
 */
export function checkDiffusionAttention(impl: string, key: string): void {
  if (impl === 'sdpa' || impl === 'eager') return;
  throw new ShardsimError(`${impl} with the diffusion plugin: its bidirectional 4-D attention mask runs on sdpa or eager attention only (integrations/diffusion/README.md: "No flash attention support")`, { key, fix: 'set attn_implementation: sdpa' });
}

/**
 * The share of a micro-batch's logits rows that enter the diffusion loss: E[p_mask] of the real tokens
 * (`_forward_process` never masks padding); 0 for other trainers.
 */
export function maskedShare(trainer: { kind: string; maskedFraction?: number }, shape: { rows: number; rowTokens: number; realTokens: number }): number {
  if (trainer.kind !== 'diffusion' || trainer.maskedFraction === undefined) return 0;
  return trainer.maskedFraction * Math.min(1, shape.realTokens / (shape.rows * shape.rowTokens));
}
