// Vitest global setup: every temp dir a test makes (mkdtemp under os.tmpdir(), Chromium profiles, child CLIs) lands
// in one per-run directory, removed when the run ends. Without it each `npm test` left ~20 directories in /tmp.
// os.tmpdir() reads TMPDIR; the workers and their child processes are started after this and inherit it.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const root = mkdtempSync(join(tmpdir(), 'shardsim-test-run-'));
  // Traversable like /tmp itself (mkdtemp makes 0700): the read-only-folder test runs the CLI as `nobody`.
  chmodSync(root, 0o755);
  const previous = process.env.TMPDIR;
  process.env.TMPDIR = root;
  return () => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    rmSync(root, { recursive: true, force: true });
  };
}
