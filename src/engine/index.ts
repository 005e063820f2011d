export { simulate, EngineStallError } from './simulator.ts';
export { SpanTable } from './simulator.ts';
export type { Task, Work, Span, Timeline, MemoryChange, MemoryLevels, MemorySample, ProcessMemory, SimulationOptions } from './simulator.ts';
