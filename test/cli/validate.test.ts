import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const ROOT = join(import.meta.dirname, '../..');
const TRAINING = join(ROOT, '../shared/validation/training-calibration.jsonl');

describe('shardsim validate --cv source --out', () => {
  it('writes the report of the out-of-sample rows (it used to print the table and write nothing)', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'shardsim-cv-')), 'report');
    const { stdout } = await exec('node', [join(ROOT, 'bin/shardsim.js'), 'validate', '--data', TRAINING, '--filter', 'torchtitan', '--cv', 'source', '--out', out], { timeout: 120_000 });
    expect(stdout).toMatch(/leave-one-source-out/);
    expect(stdout).toMatch(/report: .*validation\.html/);
    expect(existsSync(join(out, 'validation.html'))).toBe(true);
  }, 120_000);
});
