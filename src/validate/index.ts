export { readValidationRows, type ValidationRow } from './dataset.ts';
export { validateRows, summarise, sourceName, METRICS, type ValidationReport, type Comparison, type MetricSummary, type MetricName, type Skipped } from './run.ts';
