import { inlineScript } from '../report/html.ts';

/**
 * playground/index.html: one file holding everything the page runs — the fonts as data: URLs, vega,
 * vega-lite and vega-embed, the app and the worker (started from a Blob URL) — so it opens from file://
 * with no network and can be published as a static file.
 */

export interface PageAssets {
  /** DejaVu Sans regular and bold, base64 TTF. */
  fontRegularBase64: string;
  fontBoldBase64: string;
  /** The UMD builds of vega, vega-lite and vega-embed, in load order. */
  vegaScripts: string[];
  appScript: string;
  workerScript: string;
}

const STYLE = `
@font-face { font-family: 'DejaVu Sans'; font-weight: 400; src: url(data:font/ttf;base64,@REGULAR@) format('truetype'); }
@font-face { font-family: 'DejaVu Sans'; font-weight: 700; src: url(data:font/ttf;base64,@BOLD@) format('truetype'); }
* { box-sizing: border-box; }
body { font-family: 'DejaVu Sans', sans-serif; margin: 0; color: #222; font-size: 13px; background: #fafafa; }
header { display: flex; flex-wrap: wrap; gap: 10px 18px; align-items: center; padding: 8px 16px; background: #1d3c6e; color: #fff; }
header h1 { font-size: 17px; margin: 0 8px 0 0; font-weight: 700; }
header label { display: flex; gap: 6px; align-items: center; }
header select, header button { font: inherit; }
header button { background: #fff; color: #1d3c6e; border: 0; border-radius: 4px; padding: 4px 10px; cursor: pointer; }
header button:disabled { opacity: 0.5; cursor: default; }
#status { margin-left: auto; font-size: 12px; opacity: 0.9; }
main { display: grid; grid-template-columns: 430px minmax(0, 1fr); gap: 0; min-height: calc(100vh - 44px); }
#left { border-right: 1px solid #ddd; background: #fff; padding: 10px 12px; display: flex; flex-direction: column; gap: 8px; }
#right { padding: 10px 16px; min-width: 0; }
fieldset { border: 1px solid #e2e2e2; border-radius: 4px; margin: 0; padding: 4px 8px 6px; }
legend { font-weight: 700; font-size: 12px; color: #1d3c6e; padding: 0 4px; }
.field { display: grid; grid-template-columns: 150px minmax(0, 1fr); align-items: center; gap: 6px; margin: 3px 0; }
.field label { color: #333; }
.field input[type=number], .field input[type=text], .field select { font: inherit; width: 100%; padding: 2px 4px; }
.field input[type=checkbox] { justify-self: start; }
.field.off { opacity: 0.45; }
#controls { display: grid; grid-template-columns: 1fr; gap: 6px; }
.editor { display: flex; border: 1px solid #ccc; border-radius: 4px; background: #fff; height: 340px; overflow: hidden; font: 12px/18px ui-monospace, 'DejaVu Sans Mono', Menlo, Consolas, monospace; }
.gutter { padding: 4px 6px 4px 4px; text-align: right; color: #999; background: #f3f3f3; border-right: 1px solid #e2e2e2; overflow: hidden; user-select: none; min-width: 34px; white-space: pre; }
.gutter .bad { color: #fff; background: #d62728; border-radius: 2px; }
#yaml { flex: 1; border: 0; outline: none; resize: none; padding: 4px 6px; font: inherit; white-space: pre; overflow: auto; tab-size: 2; }
.messages { font-size: 12px; min-height: 18px; }
.messages .error { color: #b00; font-weight: 700; }
.messages .warning { color: #8a5a00; }
.messages .ok { color: #2a7a2a; }
#metrics table { border-collapse: collapse; font-size: 13px; background: #fff; }
#metrics th, #metrics td { padding: 3px 12px 3px 0; text-align: left; border-bottom: 1px solid #eee; vertical-align: top; }
#metrics td.num { text-align: right; font-variant-numeric: tabular-nums; }
#metrics .delta.worse { color: #b00; } #metrics .delta.better { color: #2a7a2a; }
#metrics .headline { font-size: 18px; font-weight: 700; }
.nofit { color: #b00; font-weight: 700; }
.lesson { background: #fff8e1; border: 1px solid #f0d48a; border-radius: 4px; padding: 8px 12px; margin-bottom: 10px; }
.lesson h2 { font-size: 15px; margin: 0 0 4px; }
.lesson p { margin: 4px 0; line-height: 1.45; }
.lesson .stale { color: #8a5a00; font-style: italic; }
.pair { display: grid; grid-template-columns: minmax(0, 1fr); gap: 12px; }
.pair.ab { grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); }
.run h2 { font-size: 14px; margin: 10px 0 4px; }
.run .chart, #breakdown { background: #fff; border: 1px solid #eee; border-radius: 4px; margin-bottom: 10px; overflow-x: auto; }
.explain p { line-height: 1.45; margin: 6px 0; max-width: 1000px; }
details { margin: 8px 0; } summary { cursor: pointer; font-weight: 700; color: #1d3c6e; }
pre#result-json { font-size: 11px; max-height: 320px; overflow: auto; background: #fff; border: 1px solid #eee; padding: 6px; }
.stale-view { opacity: 0.45; transition: opacity 0.2s; }
.banner { background: #fdecea; border: 1px solid #e4a3a0; color: #8b0000; border-radius: 4px; padding: 6px 10px; margin-bottom: 8px; font-weight: 700; }
.banner small { display: block; font-weight: 400; color: #555; }
`;

const BODY = `
<header>
  <h1>shardsim playground</h1>
  <label>scenario <select id="scenario"></select></label>
  <label>lesson <select id="lesson"><option value="">—</option></select></label>
  <button id="pin" type="button" title="Keep this run as A and compare the next ones with it">Pin as A</button>
  <button id="share" type="button" title="Copy a link to this exact state">Copy link</button>
  <span id="status">loading…</span>
</header>
<main>
  <aside id="left">
    <form id="controls" autocomplete="off"></form>
    <div class="editor"><div class="gutter" id="gutter">1</div><textarea id="yaml" spellcheck="false" aria-label="Axolotl YAML"></textarea></div>
    <div class="messages" id="messages"></div>
  </aside>
  <section id="right">
    <div class="lesson" id="lesson-box" hidden><h2 id="lesson-title"></h2><p id="lesson-text"></p><p class="stale" id="lesson-stale" hidden>B has changed since the lesson ran: the paragraph describes the lesson's own runs.</p></div>
    <div class="banner" id="error-banner" hidden></div>
    <div id="metrics"></div>
    <div id="breakdown"></div>
    <div id="runs">
      <section class="run" id="run-a" hidden><h2 id="run-a-title">A (pinned)</h2><div class="chart" id="timeline-a"></div></section>
      <section class="run"><h2 id="run-b-title">Timeline</h2><div class="chart" id="timeline"></div></section>
      <div class="pair" id="memories">
        <section class="run" id="mem-a" hidden><h2>A: memory</h2><div class="chart" id="memory-a"></div></section>
        <section class="run"><h2 id="mem-b-title">Memory</h2><div class="chart" id="memory"></div></section>
      </div>
    </div>
    <details open><summary>What happens in this step</summary><div class="explain" id="explanation"></div></details>
    <details><summary>Result JSON (what <code>shardsim simulate --json</code> prints)</summary><pre id="result-json"></pre></details>
  </section>
</main>
`;

export function playgroundHtml(a: PageAssets): string {
  const style = STYLE.replace('@REGULAR@', a.fontRegularBase64).replace('@BOLD@', a.fontBoldBase64);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>shardsim playground</title>
<style>${style}</style>
</head>
<body data-state="loading" data-renders="0" data-runs="0">
${BODY}
${a.vegaScripts.map((s) => `<script>${inlineScript(s)}</script>`).join('\n')}
<script type="text/plain" id="worker-source">${inlineScript(a.workerScript)}</script>
<script>${inlineScript(a.appScript)}</script>
</body>
</html>
`;
}
