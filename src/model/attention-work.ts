/**
 * How much score work one attention call does: the number of (query, key) pairs per head, given the row's
 * documents, causal masking and a sliding window. Kernels that skip masked blocks (FlashAttention varlen with
 * `cu_seqlens`, flex_attention's block mask, FA2's causal and window masks) execute about these pairs; dense
 * kernels given a 4-D mask (eager, SDPA's math and memory-efficient backends) compute every pair of the row.
 */

/** Query-key pairs of one causal document of `l` tokens attending to at most the last `window` keys (itself included). */
export function causalPairs(l: number, window?: number): number {
  if (window === undefined || window >= l) return (l * (l + 1)) / 2;
  return (window * (window + 1)) / 2 + (l - window) * window;
}

/**
 * Document lengths as a log-normal distribution (mean `meanTokens`, log-space σ `sigma`), the usual shape of
 * instruction and chat data (a long right tail). E[l²] = E[l]² · exp(σ²).
 */
export interface DocumentLengths {
  meanTokens: number;
  sigma: number;
  /** Samples shorter than this are dropped before packing (Axolotl `min_sample_len`, utils/data/utils.py _filter_short_sequences). */
  minTokens?: number;
  /** The dataset's longest sample, when known (the longest row a run meets; src/config/datasets/). */
  maxTokens?: number;
}

/** Upper tail of the standard normal, Q(x) = P(Z > x), with small relative error far into the tail. */
function normalTail(x: number): number {
  // erfc by Numerical Recipes' Chebyshev fit (fractional error < 1.2e-7 everywhere): Q(x) = erfc(x/√2)/2.
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * z);
  const r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? r / 2 : 1 - r / 2;
}

/**
 * E[l] and E[l²] of the log-normal document lengths, conditioned on l ≥ minTokens when short samples are
 * dropped: E[l^k | l ≥ a] = exp(kμ + k²σ²/2) · Q((ln a − μ)/σ − kσ) / Q((ln a − μ)/σ).
 */
export function keptDocumentMoments(docs: DocumentLengths): { mean: number; meanSq: number } {
  const s = docs.sigma;
  const mu = Math.log(docs.meanTokens) - (s * s) / 2;
  const raw = (k: number) => Math.exp(k * mu + (k * k * s * s) / 2);
  const a = docs.minTokens;
  if (a === undefined || a <= 1 || s === 0) return { mean: a !== undefined && s === 0 ? Math.max(docs.meanTokens, a) : raw(1), meanSq: a !== undefined && s === 0 ? Math.max(docs.meanTokens, a) ** 2 : raw(2) };
  const za = (Math.log(a) - mu) / s;
  const kept = normalTail(za);
  // So far into the tail that every kept document sits at the threshold.
  if (!(kept > 1e-300)) return { mean: a, meanSq: a * a };
  const moment = (k: number) => Math.max(a ** k, (raw(k) * normalTail(za - k * s)) / kept);
  return { mean: moment(1), meanSq: moment(2) };
}

/**
 * Expected causal pairs per row of `rowTokens` tokens packed with whole documents (Axolotl multipack), each
 * document attending only within itself; documents longer than the row are cut to it. Windowed attention caps
 * a document's pairs at its window. Uses E[Σ pairs] ≈ (rowTokens / E[l]) · E[pairs(l)], with pairs(l) ≈ l²/2
 * (≥ the window: l·w − w²/2) integrated over the log-normal.
 */
export function packedCausalPairs(rowTokens: number, docs: DocumentLengths, window?: number): number {
  const kept = keptDocumentMoments(docs);
  const mean = Math.min(kept.mean, rowTokens);
  const meanSq = Math.min(kept.meanSq, rowTokens * rowTokens);
  const perDocUnwindowed = (meanSq + mean) / 2;
  const perDoc = window === undefined || window >= rowTokens ? perDocUnwindowed : Math.min(perDocUnwindowed, mean * window - (window * window) / 2 + window / 2);
  return (rowTokens / mean) * perDoc;
}

/**
 * Expected length of the longest of `n` documents (the row length a micro-batch of n unpacked samples is
 * padded to), each truncated at `cap`: E[min(max, cap)] = a + ∫_a^cap (1 − F(x)^n) dx over the log-normal CDF
 * F of the kept documents (l ≥ a = minTokens), integrated by Simpson's rule in log space (x = e^(μ+σz)).
 * Exact up to the quadrature; the n/(n+1) quantile, the usual shortcut, is 10–40 % short for σ = 0.5–1
 * because the longest of n scatters far into the long right tail.
 */
export function expectedLongest(n: number, docs: DocumentLengths, cap: number): number {
  const s = docs.sigma;
  const mu = Math.log(docs.meanTokens) - (s * s) / 2;
  const a = docs.minTokens !== undefined && docs.minTokens > 1 ? docs.minTokens : 0;
  if (s === 0) return Math.min(cap, Math.max(a, docs.meanTokens));
  if (a >= cap) return cap;
  const zOf = (x: number) => (Math.log(x) - mu) / s;
  const kept = a > 0 ? normalTail(zOf(a)) : 1;
  // So far into the tail that every kept document sits at the threshold.
  if (!(kept > 1e-300)) return Math.min(cap, a);
  // Below zLo the survival 1 − F(x)^n is 1 (a or a negligible x); past zHi it is 0 for any n this sees.
  const zLo = a > 0 ? zOf(a) : -8;
  const zHi = Math.min(zOf(cap), zLo + 20);
  const base = a > 0 ? a : Math.exp(mu + s * zLo);
  if (!(zHi > zLo)) return Math.min(cap, base);
  // 1 − F^n with F = 1 − Q(z)/kept, computed as −expm1(n·log1p(−Q/kept)) so it keeps its digits when F ≈ 1.
  const survival = (z: number) => -Math.expm1(n * Math.log1p(-Math.min(1, normalTail(z) / kept)));
  const f = (z: number) => survival(z) * s * Math.exp(mu + s * z);
  const steps = 800;
  const h = (zHi - zLo) / steps;
  let sum = f(zLo) + f(zHi);
  for (let i = 1; i < steps; i++) sum += (i % 2 === 1 ? 4 : 2) * f(zLo + i * h);
  return Math.min(cap, base + (sum * h) / 3);
}

/** Acklam's rational approximation of the standard normal quantile (|error| < 1.2e-9). */
export function normalQuantile(p: number): number {
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const lo = 0.02425;
  if (p < lo) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  }
  if (p > 1 - lo) return -normalQuantile(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) / (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
}

/** Truncated log-normal moments: E[l] and E[l²] of document lengths cut at `cap` tokens (clamped, not renormalised). */
export function documentMoments(docs: DocumentLengths, cap: number): { mean: number; meanSq: number } {
  const kept = keptDocumentMoments(docs);
  const mean = Math.min(kept.mean, cap);
  const meanSq = Math.min(kept.meanSq, cap * mean);
  return { mean, meanSq };
}

/**
 * One attention call over a micro-batch, as an equivalent batch of equal causal sequences for the kernel model:
 * rows of `rowTokens` that are one causal sequence each ('causal'), every score of the row ('dense': a 4-D
 * mask the kernel applies without skipping), or documents attending within themselves ('documents': packed
 * rows hold rowTokens / E[l] of them, unpacked rows one). For documents the equivalent length is
 * L = E[l²] / E[l] and the batch B = (documents) · E[l] / L, so that B·L tokens and B·L² pairs match.
 */
export function attentionEquivalent(
  shape: { rows: number; rowTokens: number; packing: boolean },
  masking: 'causal' | 'dense' | 'documents',
  docs?: DocumentLengths,
): { batch: number; seqLen: number; causal: boolean } {
  if (masking === 'dense') return { batch: shape.rows, seqLen: shape.rowTokens, causal: false };
  if (masking === 'causal' || !docs) return { batch: shape.rows, seqLen: shape.rowTokens, causal: true };
  const { mean, meanSq } = documentMoments(docs, shape.rowTokens);
  const L = Math.min(shape.rowTokens, meanSq / mean);
  const documents = shape.rows * (shape.packing ? shape.rowTokens / mean : 1);
  return { batch: (documents * mean) / L, seqLen: L, causal: true };
}

/** The strided EBFT attention pattern's parameters (core/trainers/ebft/strided.py `_strided_mask_mod`). */
export interface StridedMask {
  /** S: the prompt (document) part of the row; queries there attend causally. */
  promptTokens: number;
  /** Where the first anchor's context ends (`context_length` argument = anchor_offset). */
  anchorOffset: number;
  generateTokens: number;
  stride: number;
  blocks: number;
}

/**
 * (query, key) pairs of one row of the strided EBFT mask over L = S + NB·G tokens, exactly as
 * `_strided_mask_mod` allows them, and as flex_attention executes them: every 128 × 128 block that holds at
 * least one allowed pair is computed whole (torch.nn.attention.flex_attention `_DEFAULT_SPARSE_BLOCK_SIZE`),
 * the last partial block padded to 128.
 *
 * - A prompt query q < S attends causally: q + 1 keys.
 * - A generated query q = S + step·NB + b attends to the prompt keys before
 *   min(b·stride + anchor_offset, S − G), to itself, and to the same block's earlier steps (S + s·NB + b, s < step).
 */
export function stridedMaskPairs(m: StridedMask, blockTokens = 128): { tokens: number; pairs: number; blockPairs: number } {
  const S = m.promptTokens;
  const NB = m.blocks;
  const L = S + NB * m.generateTokens;
  const qBlocks = Math.ceil(L / blockTokens);
  const touched: Set<number>[] = Array.from({ length: qBlocks }, () => new Set<number>());
  let pairs = 0;
  for (let q = 0; q < L; q++) {
    const qb = Math.floor(q / blockTokens);
    const set = touched[qb]!;
    if (q < S) {
      pairs += q + 1;
      for (let kb = 0; kb <= qb; kb++) set.add(kb);
      continue;
    }
    const o = q - S;
    const step = Math.floor(o / NB);
    const b = o % NB;
    const contextEnd = Math.max(0, Math.min(b * m.stride + m.anchorOffset, S - m.generateTokens));
    pairs += contextEnd + 1 + step;
    for (let kb = 0; kb < Math.ceil(contextEnd / blockTokens); kb++) set.add(kb);
    set.add(qb);
    for (let s = 0; s < step; s++) set.add(Math.floor((S + s * NB + b) / blockTokens));
  }
  const blocks = touched.reduce((a, s) => a + s.size, 0);
  return { tokens: L, pairs, blockPairs: blocks * blockTokens * blockTokens };
}

/**
 * An attention call of `rows` rows of `tokens` tokens that executes `pairsPerRow` (query, key) pairs per row, as
 * an equivalent batch for the kernel model: causal sequences of length 2·pairs / tokens (same tokens, same
 * pairs) while that is at most the row, else full sequences of pairs / tokens keys per query — longer than the
 * row when whole padded blocks are executed.
 */
export function equivalentFromPairs(rows: number, tokens: number, pairsPerRow: number): { batch: number; seqLen: number; causal: boolean } {
  const causalLen = (2 * pairsPerRow) / tokens;
  if (causalLen <= tokens) return { batch: (rows * tokens) / causalLen, seqLen: causalLen, causal: true };
  const denseLen = pairsPerRow / tokens;
  return { batch: (rows * tokens) / denseLen, seqLen: denseLen, causal: false };
}
