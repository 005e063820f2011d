import { describe, expect, it, vi } from 'vitest';

// V8's flags cannot be read back from JS: the switch is observed where the pipeline calls it.
const useDefaultHeapGrowth = vi.fn();
vi.mock('../../src/util/heap.ts', async (original) => ({ ...(await original<typeof import('../../src/util/heap.ts')>()), useDefaultHeapGrowth }));

const { settleHeapGrowth } = await import('../../src/pipeline/limits.ts');
const { simulateLoaded } = await import('../../src/pipeline/simulate.ts');
const { loadScenarioText } = await import('../../src/config/index.ts');
const { llama8b } = await import('../helpers/run.ts');

describe('the heap growth bin/shardsim.js sets for short runs', () => {
  it('a run of up to 10⁵ task simulations keeps it; a longer one gives V8 its own back', () => {
    useDefaultHeapGrowth.mockClear();
    settleHeapGrowth(1e5);
    expect(useDefaultHeapGrowth).not.toHaveBeenCalled();
    settleHeapGrowth(1e5 + 1);
    expect(useDefaultHeapGrowth).toHaveBeenCalledTimes(1);
  });

  it('the pipeline counts tasks × jittered steps: one 8B step keeps it, enough jittered steps do not', async () => {
    useDefaultHeapGrowth.mockClear();
    const one = await simulateLoaded(loadScenarioText(JSON.stringify(llama8b), { name: 'one' }));
    const tasks = one.plan.tasks.length;
    expect(tasks).toBeLessThan(1e5);
    expect(useDefaultHeapGrowth).not.toHaveBeenCalled();
    const steps = Math.floor(1e5 / tasks) + 1;
    await simulateLoaded(loadScenarioText(JSON.stringify({ ...llama8b, simulation: { jitter: 0.01, steps } }), { name: 'long' }));
    expect(useDefaultHeapGrowth).toHaveBeenCalledTimes(1);
  });
});
