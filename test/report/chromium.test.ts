import { describe, expect, it, beforeAll } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pathToFileURL } from 'node:url';
import { writeReport } from '../../src/report/write.ts';
import { runForReport, fsdp2Small } from './fixtures.ts';

/**
 * Opens report.html in headless Chromium from file:// with networking off and checks that every chart
 * rendered without an error (the page sets document.title = "rendered" once all vegaEmbed calls
 * resolve, and writes errors into #render-errors). Needs Debian's chromium: apt-get install -y chromium.
 */
const CHROMIUM = '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
if (!available) console.warn(`report.html browser check skipped: no ${CHROMIUM} (install it with: apt-get install -y chromium)`);

const exec = promisify(execFile);
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--hide-scrollbars'];

describe.skipIf(!available)('report.html in headless Chromium', () => {
  let dir: string;
  let url: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'shardsim-chromium-'));
    await writeReport(await runForReport(fsdp2Small, 'chromium-test'), dir);
    url = pathToFileURL(join(dir, 'report.html')).href;
  }, 60_000);

  it('every chart renders, with no error and no console error', async () => {
    const profile = mkdtempSync(join(tmpdir(), 'shardsim-chromium-profile-'));
    const { stdout, stderr } = await exec(CHROMIUM, [...FLAGS, `--user-data-dir=${profile}`, '--enable-logging=stderr', '--v=0', '--virtual-time-budget=10000', '--dump-dom', url], { timeout: 60_000, maxBuffer: 64 * 2 ** 20 });
    expect(/<title>([^<]*)<\/title>/.exec(stdout)?.[1]).toBe('rendered');
    expect(/<pre id="render-errors">([^<]*)<\/pre>/.exec(stdout)?.[1]).toBe('');
    // Four charts, each an SVG drawn by vega ("marks" class), with its text.
    expect((stdout.match(/<svg[^>]*class="marks"/g) ?? []).length).toBe(4);
    expect(stdout).toContain('rank 0 · compute (stream 7)');
    // Chromium logs page console errors as CONSOLE lines.
    expect(stderr.split('\n').filter((l) => /CONSOLE/.test(l) && /error/i.test(l))).toEqual([]);
  }, 60_000);

  it('takes a screenshot of the page', async () => {
    const profile = mkdtempSync(join(tmpdir(), 'shardsim-chromium-profile-'));
    const shot = join(dir, 'screenshot.png');
    await exec(CHROMIUM, [...FLAGS, `--user-data-dir=${profile}`, '--virtual-time-budget=10000', `--screenshot=${shot}`, '--window-size=1200,2000', url], { timeout: 60_000 });
    const png = readFileSync(shot);
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect(statSync(shot).size).toBeGreaterThan(100_000);
    console.log(`report.html screenshot: ${shot}`);
  }, 60_000);
});
