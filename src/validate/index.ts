export { readValidationRows, type ValidationRow } from './dataset.ts';
export { validateRows, summarise, sourceName, METRICS, type ValidationReport, type Comparison, type MetricSummary, type MetricName, type Skipped } from './run.ts';
export { leaveOneSourceOut, splitBySource, type CrossValidation, type Fold } from './cv.ts';
export { fitAllocatorFactor, withAllocatorFactor, type AllocatorFit } from './allocator-fit.ts';
