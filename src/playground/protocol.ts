import type { SimulationResult } from '../metrics/result.ts';
import type { CollectiveTally } from '../metrics/activity.ts';

/** Messages between the playground page and its Web Worker (structured-clone plain data only). */

export interface SimulateRequest {
  type: 'simulate';
  /** Echoed back, so the page drops answers to requests it has superseded. */
  id: number;
  /** Scenario name (the CLI uses the file name without extension). */
  name: string;
  yaml: string;
  /** Only the result and tallies (lesson variants): no chart specs, no explanation. */
  summaryOnly?: boolean;
}

export interface InitRequest {
  type: 'init';
  id: number;
}

export type WorkerRequest = SimulateRequest | InitRequest;

/** One collective kind × phase of the breakdown rank (busy time, bytes sent), for lessons. */
export type Tally = Omit<CollectiveTally, 'example'>;

export interface SimulateOk {
  type: 'result';
  id: number;
  ok: true;
  result: SimulationResult;
  tallies: Tally[];
  /** Vega-Lite specs from src/report/charts (absent with summaryOnly). */
  specs?: { timeline: object; memory: object };
  /** src/report/explain.ts paragraphs (absent with summaryOnly). */
  explanation?: string[];
  /** Wall time in the worker, ms: the simulation, and the specs + explanation. */
  timings: { simulate_ms: number; specs_ms: number };
}

/**
 * Sent as soon as the simulation is done, before the chart specs are built (a full request answers
 * twice: this, then the SimulateOk): the page shows the numbers while the charts are still coming.
 */
export interface SimulateSummary {
  type: 'summary';
  id: number;
  result: SimulationResult;
  tallies: Tally[];
  simulate_ms: number;
}

export interface SimulateError {
  type: 'result';
  id: number;
  ok: false;
  /** One line, as the CLI prints it after "error: " (key, problem, fix). */
  message: string;
  /** A ShardsimError (bad input, exit code 2 in the CLI) or an internal error. */
  badInput: boolean;
  /** Warnings gathered before the error (e.g. unknown keys). */
  warnings: string[];
}

export interface InitInfo {
  type: 'init';
  id: number;
  hardware: { id: string; name: string; gpusPerNode: number }[];
  /** The profile a scenario without `simulation.hardware` runs on. */
  defaultHardware: string;
  models: string[];
}

export type WorkerResponse = SimulateOk | SimulateError | SimulateSummary | InitInfo;
