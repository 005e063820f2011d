export { simulate, EngineStallError } from './simulator.ts';
export type { Task, Work, Span, SpanTable, Timeline, MemoryChange, MemorySample, ProcessMemory, SimulationOptions } from './simulator.ts';
