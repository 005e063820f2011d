import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { projectRoot } from '../util/paths.ts';
import { buildPlayground } from './build.ts';
import { encodeState } from './share.ts';

/**
 * `npm run bench:playground`: how long the playground takes from a change to drawn charts, per card
 * scenario, in headless Chromium (Debian's /usr/bin/chromium through playwright-core). Each scenario is
 * opened, then its micro-batch is doubled and restored `REPEATS` times; the table gives the median of
 * those changes: until the numbers show (the worker answers with them before it builds the charts) and
 * until every chart is drawn, split into the worker's simulation, the chart specs, the transfer to the
 * page and the drawing. The target (issue 15) is ~300 ms for the card scenarios.
 */
const CHROMIUM = '/usr/bin/chromium';
const REPEATS = 3;

interface Timings {
  numbers_ms: number;
  total_ms: number;
  simulate_ms: number;
  specs_ms: number;
  transfer_ms: number;
  draw_ms: number;
  tasks: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;

async function main(): Promise<void> {
  if (!existsSync(CHROMIUM)) {
    process.stderr.write(`no ${CHROMIUM}: apt-get install -y chromium\n`);
    process.exitCode = 2;
    return;
  }
  const { chromium } = await import('playwright-core');
  const dir = mkdtempSync(join(tmpdir(), 'shardsim-playground-bench-'));
  const url = pathToFileURL((await buildPlayground(dir)).file).href;
  const browser = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'shardsim-chromium-profile-')), {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    viewport: { width: 1500, height: 1100 },
  });
  const scenarios = join(projectRoot(), 'scenarios');
  const rows: string[] = ['| scenario | tasks | change → numbers | change → charts drawn | simulation | chart specs | transfer | drawing |', '|---|---:|---:|---:|---:|---:|---:|---:|'];
  for (const file of readdirSync(scenarios).filter((f) => f.endsWith('.yaml')).sort()) {
    const name = file.slice(0, -'.yaml'.length);
    const page = await browser.newPage();
    await page.goto(`${url}#${await encodeState({ name, yaml: readFileSync(join(scenarios, file), 'utf8') })}`);
    const runs = async () => Number(await page.evaluate(() => document.body.dataset.runs));
    await page.waitForFunction(() => Number(document.body.dataset.runs) > 0, null, { timeout: 120_000 });
    const micro = await page.inputValue('#ctl-micro_batch_size');
    const samples: Timings[] = [];
    for (let i = 0; i < 2 * REPEATS; i++) {
      const n = await runs();
      await page.fill('#ctl-micro_batch_size', i % 2 === 0 ? String(2 * Number(micro)) : micro);
      await page.waitForFunction((k) => Number(document.body.dataset.runs) > k, n, { timeout: 120_000 });
      if (i % 2 === 1) samples.push(JSON.parse((await page.evaluate(() => document.body.dataset.timings))!) as Timings);
    }
    const m = (k: keyof Timings) => `${median(samples.map((s) => s[k])).toFixed(0)} ms`;
    rows.push(`| ${name} | ${samples[0]!.tasks.toLocaleString('en-US')} | ${m('numbers_ms')} | ${m('total_ms')} | ${m('simulate_ms')} | ${m('specs_ms')} | ${m('transfer_ms')} | ${m('draw_ms')} |`);
    await page.close();
  }
  await browser.close();
  process.stdout.write(`${rows.join('\n')}\n`);
}

await main();
