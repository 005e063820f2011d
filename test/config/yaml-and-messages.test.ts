import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadScenarioFile, loadScenarioText, resolveConfig } from '../../src/config/index.ts';
import { parseDocument } from 'yaml';
import { PYYAML_OPTIONS } from '../../src/config/yaml.ts';
import { readTextFile } from '../../src/util/read-text.ts';
import { errorOf } from '../helpers/errors.ts';

const ok = 'base_model: meta-llama/Llama-3.1-8B\nsequence_len: 2048\nmicro_batch_size: 1\n';
const load = (text: string) => loadScenarioText(text, { name: 't' });
const dir = mkdtempSync(join(tmpdir(), 'shardsim-yaml-'));

describe('YAML as Axolotl reads it (PyYAML safe_load)', () => {
  it('applies merge keys: a shared anchor makes the config FSDP2 with checkpointing (issue 16: it silently became DDP)', async () => {
    const text = `common: &common\n  fsdp_version: 2\n  gradient_checkpointing: true\n  fsdp_config:\n    reshard_after_forward: true\n${ok}<<: *common\n`;
    const cfg = await resolveConfig(load(text), { hardware: 'dgx-h100', gpusPerNode: 8 });
    expect(cfg.strategy).toBe('fsdp2');
    expect(cfg.activationCheckpointing).toBe('full');
  });

  it('explicit keys beat merged ones, and earlier mappings of a merge list beat later ones (PyYAML flatten_mapping)', () => {
    const text = `a: &a {micro_batch_size: 4, sequence_len: 1024}\nb: &b {micro_batch_size: 8, gradient_accumulation_steps: 3}\nbase_model: meta-llama/Llama-3.1-8B\n<<: [*a, *b]\nsequence_len: 4096\n`;
    const input = load(text).input;
    expect(input.micro_batch_size).toBe(4);
    expect(input.gradient_accumulation_steps).toBe(3);
    expect(input.sequence_len).toBe(4096);
  });

  it('reads yes/no/on/off as booleans like PyYAML, but not y/n', () => {
    expect(load(ok + 'bf16: yes\nflash_attention: On\n').input).toMatchObject({ bf16: true, flash_attention: true });
    expect(load(ok + 'bf16: no\n').input.bf16).toBe(false);
    expect(errorOf(() => load(ok + 'bf16: y\n')).message).toMatch(/bf16: must be true, false or "auto" \(got "y"\)/);
  });

  it('reads YAML 1.1 numbers with underscores as PyYAML does (Axolotl ALST example: sequence_len: 500_000)', () => {
    const base = 'base_model: meta-llama/Llama-3.1-8B\nmicro_batch_size: 1\n';
    expect(load(base + 'sequence_len: 500_000\n').input.sequence_len).toBe(500000);
    expect(parseDocument('a: 1_0.5\nb: -2_0\nc: 1.5\n', PYYAML_OPTIONS).toJS()).toEqual({ a: 10.5, b: -20, c: 1.5 });
    // A quoted value stays a string, and a leading underscore is not a number in PyYAML either.
    expect(errorOf(() => load(base + 'sequence_len: "4_096"\n')).message).toMatch(/sequence_len/);
    expect(errorOf(() => load(base + 'sequence_len: _4096\n')).message).toMatch(/sequence_len/);
  });
});

describe('messages name what is allowed', () => {
  it.each([
    ['bf16: maybe', /bf16: must be true, false or "auto" \(got "maybe"\)/],
    ['gradient_checkpointing: "full"', /gradient_checkpointing: must be true, false, "selective"(, "[a-z_]+")* or "[a-z_]+" \(got "full"\)/],
    ['simulation: {master_weights: fp8}', /simulation.master_weights: must be "fp32" or "bf16" \(got "fp8"\)/],
    ['fsdp_version: 3', /fsdp_version: must be 1 or 2 \(got 3\)/],
    ['gradient_accumulation_steps: 1e30', /gradient_accumulation_steps: must be at most 2\^53 − 1 = 9007199254740991 \(got 1e\+30\)/],
    ['gradient_accumulation_steps: 2.5', /gradient_accumulation_steps: must be a whole number \(got 2.5\)/],
    ['gradient_accumulation_steps: -1e30', /gradient_accumulation_steps: must be positive \(got -1e\+30\)/],
  ])('%s', (line, pattern) => {
    const m = errorOf(() => load(`${ok}${line}\n`)).message;
    expect(m).toMatch(pattern);
    expect(m).not.toMatch(/Invalid input/);
  });

  it('the allowed values follow the schema (a new accepted value appears without editing the message)', async () => {
    const { allowedValues } = await import('../../src/config/load.ts');
    const { z } = await import('zod');
    const r = z.union([z.boolean(), z.literal('selective'), z.literal('offload')]).safeParse('full');
    expect(allowedValues(r.error!.issues[0]!)).toBe('true, false, "selective" or "offload"');
  });
});

describe('scenario files are read bounded and as UTF-8', () => {
  const write = (name: string, bytes: Buffer | string) => {
    const p = join(dir, name);
    writeFileSync(p, bytes);
    return p;
  };

  it('UTF-16 (with or without a byte-order mark) says which encoding is expected', () => {
    const le = write('le.yaml', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(ok, 'utf16le')]));
    expect(errorOf(() => loadScenarioFile(le)).message).toMatch(/is UTF-16 \(little-endian\) text; UTF-8 is expected — re-save it as UTF-8/);
    const bare = write('bare.yaml', Buffer.from(ok, 'utf16le'));
    expect(errorOf(() => loadScenarioFile(bare)).message).toMatch(/holds NUL bytes .*UTF-8 text is expected/);
    const latin1 = write('latin1.yaml', Buffer.from(`${ok}# caf\xe9\n`, 'latin1'));
    expect(errorOf(() => loadScenarioFile(latin1)).message).toMatch(/is not valid UTF-8/);
  });

  it('a UTF-8 byte-order mark is fine', () => {
    const bom = write('bom.yaml', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(ok)]));
    expect(loadScenarioFile(bom).input.sequence_len).toBe(2048);
  });

  it('a directory, a device and a missing file are refused by name', () => {
    expect(errorOf(() => loadScenarioFile(dir)).message).toMatch(/cannot read scenario file .* \(it is a directory\)/);
    expect(errorOf(() => loadScenarioFile('/dev/zero')).message).toMatch(/not a regular file/);
    expect(errorOf(() => loadScenarioFile(join(dir, 'nope.yaml'))).message).toMatch(/no such file/);
  });

  it('a file larger than the heap can parse is refused before parsing', () => {
    const big = write('big.yaml', ok + 'datasets:\n' + '  - {path: x, type: alpaca}\n'.repeat(1000));
    const e = errorOf(() => readTextFile(big, { what: 'scenario file', fix: 'x', heapBytesPerByte: 1e9 }));
    expect(e.message).toMatch(/scenario file ".*big.yaml" is .* GB; parsing it needs ~.*, more than this process can hold/);
  });
});

describe('hostile inputs end in one line', () => {
  it('an alias bomb ("billion laughs") is refused, not expanded', () => {
    let text = ok + 'a: &a [x, x, x, x, x, x, x, x, x]\n';
    for (let i = 1; i < 12; i++) text += `a${i}: &a${i} [${Array(9).fill(`*${i === 1 ? 'a' : `a${i - 1}`}`).join(', ')}]\n`;
    expect(errorOf(() => loadScenarioText(text, { name: 'bomb' })).message).toMatch(/the YAML cannot be expanded: Excessive alias count/);
  });

  it('a FIFO is refused without waiting for a writer', async () => {
    const { execFileSync } = await import('node:child_process');
    const fifo = join(dir, 'fifo.yaml');
    try {
      execFileSync('mkfifo', [fifo]);
    } catch {
      return; // no mkfifo here
    }
    expect(errorOf(() => loadScenarioFile(fifo)).message).toMatch(/not a regular file/);
  });
});
