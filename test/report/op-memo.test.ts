import { describe, expect, it } from 'vitest';
import { opMemo } from '../../src/report/op-memo.ts';
import { opTag, type OpTag } from '../../src/strategy/plan.ts';

describe('opMemo (text written once per op)', () => {
  const gather = (mb: number, bytes: number): OpTag => opTag({ kind: 'all_gather', phase: 'forward', label: 'layer 3', layer: 3, bytes, groupSize: 8, algorithm: 'ring', wireBytes: bytes * 0.875 }, mb);

  it('builds once per op while the fields it read are the same, and again when they differ', () => {
    const built: OpTag[] = [];
    const text = opMemo(
      (t) => {
        built.push(t);
        return { bytes: t.bytes, text: `${t.label} ${t.bytes}` };
      },
      (v, t) => v.bytes === t.bytes,
    );
    expect(text(gather(0, 100)).text).toBe('layer 3 100');
    expect(text(gather(1, 100)).text).toBe('layer 3 100');
    expect(built.length).toBe(1);
    // Another payload of the same op: its own text.
    expect(text(gather(2, 50)).text).toBe('layer 3 50');
    expect(built.length).toBe(2);
    // Another phase or kind of the same label: another op.
    expect(text({ ...gather(0, 50), phase: 'backward' }).text).toBe('layer 3 50');
    expect(text({ ...gather(0, 50), kind: 'reduce_scatter' }).text).toBe('layer 3 50');
    expect(built.length).toBe(4);
  });
});
