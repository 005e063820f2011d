import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseDocument } from 'yaml';
import { selfContainedYaml } from '../../src/cli/commands/playground.ts';
import { simulateFile } from '../../src/pipeline/simulate.ts';
import { simulateRequest } from '../../src/playground/session.ts';
import { decodeState } from '../../src/playground/share.ts';

const exec = promisify(execFile);
const ROOT = join(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/shardsim.js');

describe('shardsim playground', () => {
  it('prints the page’s file:// URL carrying the scenario (no display here), exit 0', async () => {
    const file = join(ROOT, 'scenarios/llama-3.1-8b-ddp-8xh100.yaml');
    const { stdout, stderr } = await exec('node', [BIN, 'playground', file, '--nodes', '2', '--no-open'], { timeout: 120_000, env: { ...process.env, DISPLAY: '', WAYLAND_DISPLAY: '' } });
    const url = /^playground: (file:\/\/\S+)$/m.exec(stdout)?.[1];
    expect(url).toMatch(/\/playground\/index\.html#n=llama-3\.1-8b-ddp-8xh100&y=/);
    const state = await decodeState(new URL(url!).hash);
    expect(state?.name).toBe('llama-3.1-8b-ddp-8xh100');
    expect(parseDocument(state!.yaml).getIn(['simulation', 'num_nodes'])).toBe(2);
    expect(state!.yaml).toContain('# Card scenario 4');
    expect(stderr).not.toMatch(/error/);
  }, 120_000);

  it('bad input: the CLI’s one line and exit code 2, nothing opened', async () => {
    const err = await exec('node', [BIN, 'playground', 'no-such.yaml', '--no-open'], { timeout: 60_000 }).then(() => undefined, (e: { code: number; stderr: string; stdout: string }) => e);
    expect(err?.code).toBe(2);
    expect(err?.stderr.trim()).toMatch(/^error: cannot read scenario file "no-such.yaml" \(no such file\) — /);
    expect(err?.stdout).toBe('');
  }, 60_000);

  it('inlines the files a scenario names, so the page (which reads no files) gets the same result', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shardsim-playground-cli-'));
    mkdirSync(join(dir, 'ds'));
    writeFileSync(join(dir, 'ds', 'zero2.json'), JSON.stringify({ zero_optimization: { stage: 2, overlap_comm: true }, bf16: { enabled: 'auto' } }));
    mkdirSync(join(dir, 'tiny'));
    const llama1b = JSON.parse(readFileSync(join(ROOT, 'src/model/catalog/meta-llama__Llama-3.2-1B.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(dir, 'tiny', 'config.json'), JSON.stringify({ ...llama1b, _id: undefined, _source: undefined }));
    const file = join(dir, 'ds-run.yaml');
    writeFileSync(file, 'base_model: ./tiny\nmodel_config:\n  num_hidden_layers: 4\nsequence_len: 1024\nmicro_batch_size: 2\nbf16: true\ndeepspeed: ds/zero2.json\n');
    const yaml = selfContainedYaml(file);
    const doc = parseDocument(yaml);
    expect(doc.getIn(['deepspeed', 'zero_optimization', 'stage'])).toBe(2);
    expect(doc.getIn(['model_config', 'num_hidden_layers'])).toBe(4);
    expect(doc.getIn(['model_config', 'hidden_size'])).toBe(llama1b.hidden_size);
    const page = await simulateRequest({ type: 'simulate', id: 1, name: 'ds-run', yaml, summaryOnly: true });
    if (!page.ok) throw new Error(page.message);
    const cli = await simulateFile(file);
    expect(page.result.strategy).toBe('zero2');
    expect(page.result.step_time_s).toBe(cli.result.step_time_s);
    expect(page.result.memory).toEqual(cli.result.memory);
  });

  it('a hardware profile given by path cannot go into the page: one line with the way out', () => {
    const dir = mkdtempSync(join(tmpdir(), 'shardsim-playground-cli-'));
    const file = join(dir, 'hw.yaml');
    writeFileSync(file, 'base_model: meta-llama/Llama-3.1-8B\nsimulation:\n  hardware: ./my-box.json\n');
    expect(() => selfContainedYaml(file)).toThrow(/simulation\.hardware: the playground has only the bundled hardware profiles, not "\.\/my-box\.json" — use a profile id/);
  });

  it('finds the DeepSpeed JSON as the simulator does (relative to the working directory, as Axolotl opens it) and sees keys from YAML merge keys', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shardsim-playground-cwd-'));
    mkdirSync(join(dir, 'ds'));
    mkdirSync(join(dir, 'runs'));
    writeFileSync(join(dir, 'ds', 'z2.json'), JSON.stringify({ zero_optimization: { stage: 2 }, bf16: { enabled: 'auto' } }));
    const body = 'base_model: meta-llama/Llama-3.2-1B\nsequence_len: 1024\nmicro_batch_size: 1\nbf16: true\n';
    writeFileSync(join(dir, 'runs', 'cwd.yaml'), `${body}deepspeed: ds/z2.json\n`);
    writeFileSync(join(dir, 'runs', 'merged.yaml'), `base: &b\n  deepspeed: ds/z2.json\n  micro_batch_size: 2\n${body.replace('micro_batch_size: 1\n', '')}<<: *b\n`);
    for (const name of ['cwd', 'merged']) {
      const run = await exec('node', [BIN, 'playground', join('runs', `${name}.yaml`), '--no-open'], { cwd: dir, timeout: 120_000, env: { ...process.env, DISPLAY: '', WAYLAND_DISPLAY: '' } });
      const state = await decodeState(new URL(/^playground: (\S+)$/m.exec(run.stdout)![1]!).hash);
      const page = await simulateRequest({ type: 'simulate', id: 1, name, yaml: state!.yaml, summaryOnly: true });
      if (!page.ok) throw new Error(page.message);
      const cli = JSON.parse((await exec('node', [BIN, 'simulate', join('runs', `${name}.yaml`), '--json', '--no-report', '--no-advice'], { cwd: dir, timeout: 60_000 })).stdout);
      expect(page.result.strategy, name).toBe('zero2');
      expect(page.result.step_time_s, name).toBe(cli.step_time_s);
      expect(page.result.batch.micro_batch_size, name).toBe(name === 'merged' ? 2 : 1);
      expect(page.result.batch, name).toEqual(cli.batch);
      expect(page.result.memory, name).toEqual(cli.memory);
    }
  }, 120_000);
});
