/**
 * The chart font's name, apart from fonts.ts (which reads the TTF files with node:fs) so the chart specs
 * also build in the browser (the playground inlines the same DejaVu files as @font-face).
 */
export const CHART_FONT_FAMILY = 'DejaVu Sans';
/** What the specs ask for: DejaVu when present (always in PNGs and the playground), a sans-serif otherwise. */
export const CHART_FONT_STACK = `${CHART_FONT_FAMILY}, sans-serif`;
