/** "3.46 GB"; large sizes in powers of ten. */
export function gigabytes(bytes: number): string {
  return bytes >= 1e12 ? `${(bytes / 1e9).toExponential(2).replace('e+', '·10^')} GB` : `${(bytes / 1e9).toPrecision(3)} GB`;
}
