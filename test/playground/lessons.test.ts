import { describe, expect, it, beforeAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LESSONS, lessonYaml, type LessonRun } from '../../src/playground/lessons.ts';
import { simulateRequest } from '../../src/playground/session.ts';
import { bytesHuman, gib, seconds } from '../../src/report/format.ts';

const scenario = (name: string) => readFileSync(join(import.meta.dirname, `../../scenarios/${name}.yaml`), 'utf8');

/** Every lesson's variants, simulated once for the whole file. */
const runs = new Map<string, LessonRun[]>();
beforeAll(async () => {
  for (const lesson of LESSONS) {
    const out: LessonRun[] = [];
    for (const v of lesson.variants) {
      const res = await simulateRequest({ type: 'simulate', id: 0, name: lesson.id, yaml: lessonYaml(lesson, scenario(lesson.scenario), v), summaryOnly: true });
      if (!res.ok) throw new Error(`${lesson.id} / ${v.label}: ${res.message}`);
      out.push({ label: v.label, result: res.result, tallies: res.tallies });
    }
    runs.set(lesson.id, out);
  }
}, 60_000);

describe('guided lessons', () => {
  it('cover overlap and prefetch, reshard_after_forward, DDP buckets, ZeRO stages and the 3× rule', () => {
    expect(LESSONS.map((l) => l.id)).toEqual(['prefetch', 'reshard', 'ddp-buckets', 'zero-stages', 'three-x']);
  });

  it('each variant is the card scenario with the lesson’s edits (comments kept)', () => {
    const l = LESSONS.find((x) => x.id === 'reshard')!;
    const b = lessonYaml(l, scenario(l.scenario), l.variants[1]);
    expect(b).toContain('reshard_after_forward: false');
    expect(b).toContain('# Card scenario 1');
  });

  it('the paragraphs carry the runs’ own numbers', () => {
    for (const lesson of LESSONS) {
      const rs = runs.get(lesson.id)!;
      const text = lesson.explain(rs);
      // A's and B's step times, as the page prints them.
      expect(text, lesson.id).toContain(seconds(rs[0]!.result.step_time_s));
      expect(text, lesson.id).toContain(seconds(rs[1]!.result.step_time_s));
    }
    const r = runs.get('reshard')!;
    expect(LESSONS[1]!.explain(r)).toContain(gib(r[1]!.result.memory.peak_bytes));
    const t = runs.get('three-x')!;
    const ratio = t[1]!.result.communication.bytes_per_gpu / t[0]!.result.communication.bytes_per_gpu;
    expect(LESSONS[4]!.explain(t)).toContain(`${ratio.toFixed(2)}× DDP, not 3×`);
    expect(LESSONS[4]!.explain(t)).toContain(bytesHuman(t[0]!.result.communication.bytes_per_gpu));
  });

  it('the runs bear the lessons out (the paragraphs describe what the simulator shows)', () => {
    const [pre, none] = runs.get('prefetch')!;
    expect(none!.result.communication.exposed_s).toBeGreaterThan(pre!.result.communication.exposed_s);
    expect(none!.result.communication.bytes_per_gpu).toBe(pre!.result.communication.bytes_per_gpu);
    const [reshard, keep] = runs.get('reshard')!;
    expect(keep!.result.memory.peak_bytes).toBeGreaterThan(reshard!.result.memory.peak_bytes);
    const [ratio] = [runs.get('three-x')!].map(([d, f]) => f!.result.communication.bytes_per_gpu / d!.result.communication.bytes_per_gpu);
    expect(ratio).toBeGreaterThan(1.3);
    expect(ratio).toBeLessThan(1.5);
  });

  it('the text follows the numbers, not a script: other numbers give other sentences', () => {
    const lesson = LESSONS.find((l) => l.id === 'reshard')!;
    const [a, b] = runs.get('reshard')!;
    const slower = structuredClone(b!);
    slower.result.step_time_s = a!.result.step_time_s * 1.1;
    slower.result.memory.fits = false;
    const text = lesson.explain([a!, slower]);
    expect(text).toContain('does not get faster');
    expect(text).toContain('10.0% slower');
    expect(text).toContain('does not fit');
  });
});
