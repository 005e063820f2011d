export { simulate, EngineStallError } from './simulator.ts';
export { SpanTable } from './simulator.ts';
export type { Task, Work, Span, Timeline, MemoryChange, MemorySample, ProcessMemory, SimulationOptions } from './simulator.ts';
