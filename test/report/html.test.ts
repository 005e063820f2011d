import { describe, expect, it } from 'vitest';
import { reportHtml, inlineScript } from '../../src/report/html.ts';
import { stepBreakdownSpec } from '../../src/report/charts/breakdown.ts';
import { runForReport, ddpSmall } from './fixtures.ts';

describe('report.html', () => {
  it('is self-contained: no network URL is loaded, the libraries and specs are inline and well delimited', async () => {
    const run = await runForReport(ddpSmall);
    const spec = stepBreakdownSpec([{ name: 'a </script><script>alert(1)</script>', result: run.result }]);
    const html = reportHtml({ result: run.result, explanation: ['x < y & "z"'], charts: [{ id: 'breakdown', title: 'Breakdown', spec, png: 'breakdown.png' }], files: [{ href: 'trace.json', what: 'trace' }] });
    for (const bad of [/\bsrc\s*=\s*["']?(https?:)?\/\//i, /\bhref\s*=\s*["']?(https?:)?\/\//i, /url\(\s*["']?https?:/i, /<link\b/i, /@import/i, /<iframe/i]) expect(html).not.toMatch(bad);
    // Every <script> closes where it should: as many closings as openings, none produced by inlined text.
    expect((html.match(/<script\b/g) ?? []).length).toBe(5);
    expect((html.match(/<\/script>/g) ?? []).length).toBe(5);
    expect(html).toContain('x &lt; y &amp; &quot;z&quot;');
    const json = /<script type="application\/json" id="chart-specs">([\s\S]*?)<\/script>/.exec(html)![1]!;
    expect(JSON.parse(json)[0].spec).toEqual(JSON.parse(JSON.stringify(spec)));
    expect(html.length).toBeGreaterThan(800_000); // vega + vega-lite + vega-embed
    expect(html).toContain('vegaEmbed(');
  });

  it('inlineScript breaks "</script" and "<!--"', () => {
    expect(inlineScript('a="</script>";b="<!--"')).toBe('a="<\\/script>";b="<\\!--"');
  });
});
