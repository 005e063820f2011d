import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../util/paths.ts';
import { headline, MEMORY_FILE, PEFT_FILE, sharedValidationDir, toBaseline, TRAINING_FILE } from './headline.ts';

/**
 * Prints the leave-one-source-out headline and, with --write, records it as the CI baseline
 * (test/validate/baseline.json, checked by test/validate/regression.test.ts):
 *
 *   npm run validate:baseline -- ../shared/validation [--write]
 */
const args = process.argv.slice(2);
const write = args.includes('--write');
const dir = args.find((a) => !a.startsWith('--'));
if (!dir) {
  process.stderr.write(`error: give the validation folder (e.g. ${sharedValidationDir()})\nusage: npm run validate:baseline -- DIR [--write]\n`);
  process.exit(2);
}
const h = await headline(join(dir, TRAINING_FILE), join(dir, MEMORY_FILE), join(dir, PEFT_FILE));
const b = toBaseline(h);
process.stdout.write(JSON.stringify(b, null, 2) + '\n');
if (write) {
  const path = join(projectRoot(), 'test', 'validate', 'baseline.json');
  writeFileSync(path, JSON.stringify(b, null, 2) + '\n');
  process.stdout.write(`wrote ${path}\n`);
}
