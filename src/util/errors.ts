/**
 * A user-facing error: one line naming the offending key (or file) and the fix.
 * The CLI prints `error: <message>` and exits with code 2; it never shows a stack trace for these.
 */
export class ShardsimError extends Error {
  readonly key: string | undefined;
  readonly fix: string | undefined;
  constructor(message: string, opts: { key?: string; fix?: string } = {}) {
    const parts = [opts.key ? `${opts.key}: ${message}` : message];
    if (opts.fix) parts.push(opts.fix);
    super(parts.join(' — '));
    this.name = 'ShardsimError';
    this.key = opts.key;
    this.fix = opts.fix;
  }
}

/** Levenshtein distance, for "did you mean" suggestions on unknown keys and ids. */
export function editDistance(a: string, b: string): number {
  const m = a.length;
  const n = b.length;
  let prev = Array.from({ length: n + 1 }, (_, j) => j);
  for (let i = 1; i <= m; i++) {
    const cur = [i];
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
    }
    prev = cur;
  }
  return prev[n]!;
}

/** The candidates closest to `name` (case-insensitive), best first. */
export function closest(name: string, candidates: readonly string[], limit = 3): string[] {
  const lower = name.toLowerCase();
  return [...candidates]
    .map((c) => ({ c, d: editDistance(lower, c.toLowerCase()) }))
    .sort((x, y) => x.d - y.d || x.c.localeCompare(y.c))
    .slice(0, limit)
    .map((x) => x.c);
}
