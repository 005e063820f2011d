import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { buildPlayground } from '../../src/playground/build.ts';
import { encodeState } from '../../src/playground/share.ts';
import { simulateFile } from '../../src/pipeline/simulate.ts';
import { seconds } from '../../src/report/format.ts';

/**
 * The playground in real Chromium (Debian's, through playwright-core; no browser download), from file://.
 * Needs /usr/bin/chromium: apt-get install -y chromium (.ci/run installs it).
 */
const CHROMIUM = process.env.SHARDSIM_CHROMIUM ?? '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
if (!available) console.warn(`playground browser tests SKIPPED: no Chromium at ${CHROMIUM} (install it with \`apt-get install -y chromium\`, or point SHARDSIM_CHROMIUM at one)`);
const ROOT_DIR = join(import.meta.dirname, '../..');
/** Where the screenshots are kept to be looked at (reports/ is not committed). */
const SHOTS = join(ROOT_DIR, 'reports', 'playground');

const exec = promisify(execFile);
const ROOT = ROOT_DIR;
const BIN = join(ROOT, 'bin/shardsim.js');
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const scenarioFile = (name: string) => join(ROOT, 'scenarios', `${name}.yaml`);

describe.skipIf(!available)('the playground in headless Chromium', () => {
  let dir: string;
  let pageUrl: string;
  let browser: BrowserContext;
  /** Every request any page made, and every console error or uncaught exception. */
  const requests: string[] = [];
  const errors: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'shardsim-playground-'));
    pageUrl = pathToFileURL((await buildPlayground(dir)).file).href;
    browser = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'shardsim-chromium-profile-')), {
      executablePath: CHROMIUM,
      headless: true,
      args: FLAGS,
      viewport: { width: 1500, height: 1100 },
    });
    // Every request of every page and worker in the context; anything not local is refused, and counted.
    browser.on('request', (r) => requests.push(r.url()));
    await browser.route(/^(?!(file|blob|data):)/, (route) => {
      requests.push(route.request().url());
      return route.abort();
    });
    mkdirSync(SHOTS, { recursive: true });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  async function open(fragment = ''): Promise<Page> {
    const page = await browser.newPage();
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(pageUrl + fragment);
    await nextRun(page, 0);
    return page;
  }

  /** Waits until the page has finished more than `after` simulations. */
  async function nextRun(page: Page, after: number): Promise<void> {
    await page.waitForFunction((n) => Number(document.body.dataset.runs) > n, after, { timeout: 60_000 });
  }
  const runs = async (page: Page) => Number(await page.evaluate(() => document.body.dataset.runs));

  it('loads from file:// with no network, shows the default scenario’s step time, and a control moves the step time and the timeline', async () => {
    const page = await open();
    const expected = await simulateFile(scenarioFile('llama-3.1-8b-ddp-8xh100'));
    expect(await page.textContent('#step-time')).toBe(seconds(expected.result.step_time_s));
    const timelineBefore = await page.locator('#timeline').screenshot();

    const n = await runs(page);
    await page.fill('#ctl-micro_batch_size', '4');
    await nextRun(page, n);
    expect(await page.inputValue('#yaml')).toContain('micro_batch_size: 4');
    const stepAfter = await page.textContent('#step-time');
    expect(stepAfter).not.toBe(seconds(expected.result.step_time_s));
    expect(Buffer.compare(await page.locator('#timeline').screenshot(), timelineBefore)).not.toBe(0);

    const shot = join(SHOTS, 'playground.png');
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`playground screenshot: ${shot}`);
    // Only the page itself and the worker's Blob URL: nothing over a network.
    expect(requests.filter((u) => !/^(file|blob|data):/.test(u))).toEqual([]);
    expect(requests.some((u) => u.startsWith('file:'))).toBe(true);
    expect(errors).toEqual([]);
    await page.close();
  }, 90_000);

  it('the network check above would see a request from the page or from its worker (and refuses it)', async () => {
    const page = await open();
    const before = requests.length;
    const errorsBefore = errors.length;
    await page.evaluate(() => fetch('http://192.0.2.1/from-page').catch(() => undefined));
    const worker = page.workers()[0]!;
    await worker.evaluate(() => fetch('http://192.0.2.1/from-worker').catch(() => undefined));
    expect(requests.slice(before)).toEqual(expect.arrayContaining(['http://192.0.2.1/from-page', 'http://192.0.2.1/from-worker']));
    // The probes are not the page's: forget them (and the console's "Failed to load resource" for them).
    requests.splice(before);
    await page.close();
    errors.splice(errorsBefore);
  }, 60_000);

  it('the numbers on the page equal `shardsim simulate --json` for the same config, after a control changed it too', async () => {
    const name = 'llama-2-13b-fsdp2-8xh100';
    const page = await open(`#${await encodeState({ name, yaml: readFileSync(scenarioFile(name), 'utf8') })}`);
    const cliJson = async (file: string) => JSON.parse((await exec('node', [BIN, 'simulate', file, '--json', '--no-report', '--no-advice'], { timeout: 60_000 })).stdout);
    const onPage = async () => JSON.parse((await page.textContent('#result-json'))!);

    const cli = await cliJson(scenarioFile(name));
    expect(await onPage()).toEqual(cli);
    expect(await page.textContent('#step-time')).toBe(seconds(cli.step_time_s));

    const n = await runs(page);
    await page.selectOption('#ctl-strategy', { label: 'DeepSpeed ZeRO-3' });
    await nextRun(page, n);
    const edited = join(mkdtempSync(join(tmpdir(), 'shardsim-playground-yaml-')), `${name}.yaml`);
    writeFileSync(edited, await page.inputValue('#yaml'));
    const cli2 = await cliJson(edited);
    expect(cli2.strategy).toBe('zero3');
    expect(await onPage()).toEqual(cli2);
    expect(errors).toEqual([]);
    await page.close();
  }, 90_000);

  it('the editor shows the CLI’s one-line error for bad input, and marks the line', async () => {
    const page = await open();
    const n = await runs(page);
    const bad = (await page.inputValue('#yaml')).replace('micro_batch_size: 8', 'micro_batch_size: 0');
    await page.fill('#yaml', bad);
    await page.waitForFunction(() => document.body.dataset.state === 'error', null, { timeout: 30_000 });
    const file = join(mkdtempSync(join(tmpdir(), 'shardsim-playground-bad-')), 'llama-3.1-8b-ddp-8xh100.yaml');
    writeFileSync(file, bad);
    const cli = await exec('node', [BIN, 'simulate', file, '--no-report'], { timeout: 60_000 }).then(() => undefined, (e: { code: number; stderr: string }) => e);
    expect(cli?.code).toBe(2);
    const line = cli!.stderr.trim().replace(file, 'llama-3.1-8b-ddp-8xh100.yaml');
    expect(await page.textContent('#messages .error')).toBe(line);
    expect(await page.textContent('#error-banner')).toContain(line);
    const lineNo = /:(\d+):\d+:/.exec(line)![1];
    expect(await page.textContent('#gutter .bad')).toBe(lineNo);
    expect(await runs(page)).toBe(n);
    await page.close();
  }, 90_000);

  it('A/B: pin DDP, switch to FSDP2, both runs side by side; the link carries both configs and reproduces them', async () => {
    const page = await open();
    const ddp = await simulateFile(scenarioFile('llama-3.1-8b-ddp-8xh100'));
    await page.click('#pin');
    expect(await page.textContent('#pin')).toBe('Unpin A');
    const n = await runs(page);
    await page.selectOption('#ctl-strategy', { label: 'FSDP2 (fsdp_version: 2)' });
    await nextRun(page, n);
    await page.waitForFunction(() => document.body.dataset.state === 'ready');
    expect(await page.textContent('#step-time-a')).toBe(seconds(ddp.result.step_time_s));
    const edited = join(mkdtempSync(join(tmpdir(), 'shardsim-playground-ab-')), 'llama-3.1-8b-ddp-8xh100.yaml');
    writeFileSync(edited, await page.inputValue('#yaml'));
    const fsdp = await simulateFile(edited);
    expect(fsdp.result.strategy).toBe('fsdp2');
    expect(await page.textContent('#step-time')).toBe(seconds(fsdp.result.step_time_s));
    expect(await page.isVisible('#timeline-a canvas, #timeline-a svg')).toBe(true);
    expect(await page.isVisible('#timeline canvas, #timeline svg')).toBe(true);
    await page.screenshot({ path: join(SHOTS, 'playground-ab.png'), fullPage: true });

    await page.waitForFunction(() => location.hash.includes('pin='));
    const link = page.url();
    const yaml = await page.inputValue('#yaml');
    await page.close();
    const again = await browser.newPage();
    again.on('pageerror', (e) => errors.push(e.message));
    await again.goto(link);
    await again.waitForFunction(() => document.body.dataset.state === 'ready' && !!document.getElementById('step-time-a'), null, { timeout: 60_000 });
    expect(await again.inputValue('#yaml')).toBe(yaml);
    expect(await again.textContent('#step-time-a')).toBe(seconds(ddp.result.step_time_s));
    expect(await again.textContent('#step-time')).toBe(seconds(fsdp.result.step_time_s));
    expect(errors).toEqual([]);
    await again.close();
  }, 120_000);

  it('a lesson pins A, shows B beside it with a paragraph from the runs, and its link reproduces the state', async () => {
    const page = await open();
    await page.selectOption('#lesson', 'three-x');
    await page.waitForFunction(() => !document.getElementById('lesson-box')!.hidden && document.body.dataset.state === 'ready', null, { timeout: 60_000 });
    const text = await page.textContent('#lesson-text');
    expect(text).toMatch(/× DDP, not 3×/);
    const a = await page.textContent('#step-time-a');
    const b = await page.textContent('#step-time');
    expect(a).toMatch(/ s$/);
    expect(await page.isVisible('#timeline-a canvas, #timeline-a svg')).toBe(true);
    await page.waitForFunction(() => location.hash.includes('lesson=three-x') && location.hash.includes('pin='));
    const link = page.url();
    await page.close();

    const again = await browser.newPage();
    again.on('pageerror', (e) => errors.push(e.message));
    await again.goto(link);
    await again.waitForFunction(() => !document.getElementById('lesson-box')!.hidden && document.body.dataset.state === 'ready', null, { timeout: 60_000 });
    expect(await again.textContent('#lesson-text')).toBe(text);
    expect(await again.textContent('#step-time-a')).toBe(a);
    expect(await again.textContent('#step-time')).toBe(b);
    expect(errors).toEqual([]);
    await again.close();
  }, 120_000);
});
