export { advise, type Advice, type AdviseOptions } from './advise.ts';
export { applyChange, OOM_MOVES, HEADROOM_MOVES, type Move, type MoveContext } from './moves.ts';
export type { AdviceEntry, AdviceDebug, ScenarioChange, VariantOutcome } from './types.ts';
