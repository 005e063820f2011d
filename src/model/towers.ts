/**
 * Vision and audio towers of multimodal checkpoints: the simulator trains the language model and reports
 * what it leaves out. Their size is estimated from the tower's config as a ViT encoder (SigLIP / CLIP shape:
 * patch embedding, position embeddings, per layer 4·d² + 4·d attention, 2·d·I + I + d MLP, two LayerNorms) —
 * an estimate for the warning, not a parameter count the simulation uses.
 */
import type { HfConfig } from './config-keys.ts';

const num = (v: unknown, fallback: number): number => (typeof v === 'number' && v > 0 ? v : fallback);

export function vitParamsEstimate(cfg: HfConfig): number {
  const d = num(cfg.hidden_size ?? cfg.embed_dim ?? cfg.width, 0);
  if (d === 0) return 0;
  const I = num(cfg.intermediate_size, 4 * d);
  const layers = num(cfg.num_hidden_layers ?? cfg.depth ?? cfg.layers, 0);
  const patch = num(cfg.patch_size, 14);
  const image = num(cfg.image_size, 224);
  const channels = num(cfg.num_channels ?? cfg.in_channels, 3);
  const perLayer = 4 * d * d + 4 * d + 2 * d * I + I + d + 4 * d;
  const patches = Math.floor(image / patch) ** 2;
  return layers * perLayer + channels * patch * patch * d + d + patches * d + 2 * d;
}

/** The towers a config names beside its language model. */
export function omittedTowers(cfg: HfConfig): { name: string; params: number }[] {
  const out: { name: string; params: number }[] = [];
  for (const key of ['vision_config', 'audio_config', 'vision_tower_config', 'speech_config'] as const) {
    const t = cfg[key];
    if (t && typeof t === 'object' && !Array.isArray(t)) {
      const tc = t as HfConfig;
      const type = typeof tc.model_type === 'string' ? tc.model_type : key.replace('_config', '');
      out.push({ name: `${key.replace('_config', '').replace('_', ' ')} (${type})`, params: vitParamsEstimate(tc) });
    }
  }
  return out;
}
