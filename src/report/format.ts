/** Human units for printing only (SI everywhere inside). */
export const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(2)} GiB`;
export const gb = (bytes: number) => `${(bytes / 1e9).toFixed(2)} GB`;

export function seconds(s: number): string {
  if (!Number.isFinite(s)) return String(s);
  if (s >= 1) return `${s.toFixed(3)} s`;
  if (s >= 1e-3) return `${(s * 1e3).toFixed(2)} ms`;
  return `${(s * 1e6).toFixed(1)} µs`;
}

export const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

export function count(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export function bytesHuman(b: number): string {
  if (b >= 2 ** 30) return gib(b);
  if (b >= 2 ** 20) return `${(b / 2 ** 20).toFixed(1)} MiB`;
  if (b >= 2 ** 10) return `${(b / 2 ** 10).toFixed(1)} KiB`;
  return `${b} B`;
}

/** A two-column aligned block. */
export function table(rows: [string, string][]): string {
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`).join('\n');
}
