/**
 * mpt (transformers MptConfig / mosaicml llm-foundry): keys d_model, n_heads, n_layers, expansion_ratio,
 * max_seq_len; one fused Wqkv projection and out_proj; GELU MLP (up_proj, down_proj) of
 * expansion_ratio·d_model; LayerNorm whose bias follows no_bias; embeddings tied. Positions: ALiBi by
 * default (attn_config.alibi, transformers default true) → no table; llm-foundry builds a learned `wpe` table
 * only when learned_pos_emb is true AND neither alibi nor rope is on.
 */
import type { ConfigReader } from '../config-keys.ts';
import { attentionLinears, denseMlpLinears, makeLayer, norms } from '../layer.ts';
import type { AttentionMixer, DenseFfn, ModelSpec } from '../types.ts';

export function mpt(r: ConfigReader): ModelSpec {
  const hiddenSize = r.reqInt('d_model');
  const numHeads = r.reqInt('n_heads');
  const numLayers = r.reqInt('n_layers');
  const expansion = r.optNumber('expansion_ratio', 4);
  const intermediate = Math.round(expansion * hiddenSize);
  const vocabSize = r.reqInt('vocab_size');
  const maxPositions = r.optInt('max_seq_len', 2048);
  const noBias = r.optBool('no_bias', true);
  const attn = r.optObject('attn_config');
  const alibi = attn.alibi === undefined || attn.alibi === null ? true : attn.alibi === true;
  const rope = attn.rope === true;
  const learnedPositions = r.optBool('learned_pos_emb', true) && !alibi && !rope;
  const attnType = typeof attn.attn_type === 'string' ? attn.attn_type : 'multihead_attention';
  let numKvHeads = numHeads;
  if (attnType === 'multiquery_attention') numKvHeads = 1;
  else if (attnType === 'grouped_query_attention') {
    const kv = attn.kv_n_heads;
    numKvHeads = kv === undefined || kv === null ? numHeads : r.checkInt(kv, 'attn_config.kv_n_heads');
  }
  r.checkKvHeads(numHeads, numKvHeads, 'attn_config.kv_n_heads');
  if (hiddenSize % numHeads !== 0) r.headDim(hiddenSize, numHeads, 'd_model', 'n_heads');
  const headDim = hiddenSize / numHeads;
  const mixer: AttentionMixer = { kind: 'attention', numHeads, numKvHeads, headDim, vHeadDim: headDim, rotaryDims: rope ? headDim : 0, qkNorm: false };
  const ffn: DenseFfn = { kind: 'dense', intermediate, gated: false };
  const ln = { kind: 'layernorm', bias: !noBias } as const;
  const layer = makeLayer({
    hiddenSize,
    mixer,
    ffn,
    linears: [
      ...attentionLinears(hiddenSize, mixer, { qkv: !noBias, out: !noBias }, { qkv: 'Wqkv', out: 'out_proj' }),
      ...denseMlpLinears(hiddenSize, ffn, !noBias, { up: 'up_proj', down: 'down_proj' }),
    ],
    norms: norms(2, ln, hiddenSize),
    extraParams: 0,
    parallelResidual: false,
  });
  return {
    id: r.id,
    modelType: 'mpt',
    hiddenSize,
    vocabSize,
    tiedEmbeddings: r.optBool('tie_word_embeddings', true),
    learnedPositions,
    maxPositions,
    numLayers,
    layers: Array.from({ length: numLayers }, () => layer),
    finalNorm: { ...ln, width: hiddenSize },
  };
}
