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

/**
 * `x.toLocaleString('en-US', { maximumFractionDigits })` without Intl: thousands grouped with commas, at
 * most `maxFractionDigits` (0–6) decimals and no trailing zeros. Like ICU, it rounds the shortest decimal
 * that reads back as `x` (String(x)), half away from zero: 0.35 → "0.4", though the double is below
 * 0.35. The first Intl call of a process loads ICU's number formatting, ~30 ms of a one-shot `simulate`.
 * Non-finite and huge values go to Intl.
 */
export function grouped(x: number, maxFractionDigits = 0): string {
  if (!Number.isFinite(x) || Math.abs(x) >= 1e21 || maxFractionDigits > 6) return x.toLocaleString('en-US', { maximumFractionDigits: maxFractionDigits });
  // Intl shows the sign of every negative value, -0 and what rounds to 0 included.
  const sign = x < 0 || Object.is(x, -0) ? '-' : '';
  const abs = Math.abs(x);
  const shortest = plainDecimal(String(abs));
  const dot = shortest.indexOf('.');
  let int = dot < 0 ? shortest : shortest.slice(0, dot);
  let frac = dot < 0 ? '' : shortest.slice(dot + 1);
  if (frac.length > maxFractionDigits) {
    const up = frac.charCodeAt(maxFractionDigits) >= 53; // '5'
    frac = frac.slice(0, maxFractionDigits);
    if (up) {
      // Add one unit in the last kept place, carrying through the fraction into the integer part.
      const digits = (int + frac).split('');
      let i = digits.length - 1;
      while (i >= 0 && digits[i] === '9') digits[i--] = '0';
      if (i >= 0) digits[i] = String(Number(digits[i]) + 1);
      else digits.unshift('1');
      const all = digits.join('');
      int = all.slice(0, all.length - frac.length);
      frac = all.slice(all.length - frac.length);
    }
  }
  frac = frac.replace(/0+$/, '');
  return `${sign}${int.replace(/\B(?=(\d{3})+$)/g, ',')}${frac ? `.${frac}` : ''}`;
}

/** "1.25e-7" → "0.000000125" (String() writes numbers below 1e-6 with an exponent). */
function plainDecimal(s: string): string {
  const e = s.indexOf('e-');
  if (e < 0) return s;
  const digits = s.slice(0, e).replace('.', '');
  return `0.${'0'.repeat(Number(s.slice(e + 2)) - 1)}${digits}`;
}

export function count(n: number): string {
  return grouped(Math.round(n));
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
