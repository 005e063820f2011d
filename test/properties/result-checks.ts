import type { SimulationResult } from '../../src/metrics/result.ts';

/**
 * What every simulation result must satisfy: finite numbers everywhere, ratios within [0, 1], the time
 * breakdown summing to the step, memory estimates in order, the step statistics ordered. Returns the
 * violations (empty when consistent).
 */
export function resultProblems(r: SimulationResult): string[] {
  const out: string[] = [];
  const walk = (v: unknown, path: string) => {
    if (typeof v === 'number' && !Number.isFinite(v)) out.push(`${path} = ${v}`);
    else if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${path}[${i}]`));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, path ? `${path}.${k}` : k);
  };
  walk({ ...r, advice_debug: undefined }, '');
  const step = r.step_time_s;
  const rel = (a: number, b: number, tol = 1e-6) => Math.abs(a - b) <= tol * Math.max(Math.abs(a), Math.abs(b), 1e-12);
  if (!(step > 0)) out.push(`step_time_s = ${step}`);
  const b = r.time_breakdown_s;
  for (const [k, v] of Object.entries(b)) if (!(v >= 0)) out.push(`time_breakdown_s.${k} = ${v}`);
  if (!rel(b.compute + b.optimizer + b.exposed_communication + b.idle, step)) out.push(`breakdown sums to ${b.compute + b.optimizer + b.exposed_communication + b.idle}, step ${step}`);
  const t = r.throughput;
  if (!(t.tokens_per_s > 0)) out.push(`tokens_per_s = ${t.tokens_per_s}`);
  if (!(t.mfu > 0 && t.mfu <= 1)) out.push(`mfu = ${t.mfu}`);
  if (!(t.hfu >= t.mfu * (1 - 1e-9) && t.hfu <= 1)) out.push(`hfu = ${t.hfu} (mfu ${t.mfu})`);
  const c = r.communication;
  if (!(c.exposed_s >= 0 && c.exposed_s <= c.busy_s * (1 + 1e-9) + 1e-12)) out.push(`exposed ${c.exposed_s} vs busy ${c.busy_s}`);
  if (!(c.exposed_ratio >= 0 && c.exposed_ratio <= 1 + 1e-9)) out.push(`exposed_ratio = ${c.exposed_ratio}`);
  if (!(c.busy_ratio >= 0 && c.busy_ratio <= 1 + 1e-9)) out.push(`busy_ratio = ${c.busy_ratio}`);
  const m = r.memory;
  if (!(m.peak_bytes > 0)) out.push(`peak_bytes = ${m.peak_bytes}`);
  if (!(m.reserved_bytes >= m.peak_bytes && m.required_bytes >= m.reserved_bytes)) out.push(`memory order: peak ${m.peak_bytes}, reserved ${m.reserved_bytes}, required ${m.required_bytes}`);
  if (m.fits !== m.required_bytes <= m.capacity_bytes) out.push(`fits = ${m.fits} with required ${m.required_bytes} of ${m.capacity_bytes}`);
  const s = r.steps;
  if (!(s.count >= 1 && s.min_s <= s.p50_s && s.p50_s <= s.p95_s && s.p95_s <= s.max_s && s.min_s > 0)) out.push(`steps ${JSON.stringify(s)}`);
  if (!(r.cost.usd_per_million_tokens >= 0)) out.push(`cost = ${r.cost.usd_per_million_tokens}`);
  return out;
}
