import type { Comparison, MetricName } from '../validate/index.ts';

const LABEL: Record<MetricName, { title: string; unit: string; scale: number }> = {
  tokens_per_s_per_gpu: { title: 'tokens/s per GPU', unit: 'tokens/s/GPU', scale: 1 },
  step_time_s: { title: 'step time', unit: 's', scale: 1 },
  peak_memory_bytes: { title: 'peak memory', unit: 'GiB', scale: 2 ** 30 },
};

/** Predicted vs measured for one metric: log-log scatter, the y = x line and a ±10% band, colour = source. */
export function scatterSpec(rows: Comparison[], metric: MetricName): object {
  const { title, unit, scale } = LABEL[metric];
  const data = rows.filter((r) => r.metric === metric).map((r) => ({
    id: r.id, source: r.source, model: r.model, gpus: r.gpus, hardware: r.hardware,
    measured: r.measured / scale, predicted: r.predicted / scale, error: `${(100 * r.error).toFixed(1)}%`,
  }));
  const values = data.flatMap((d) => [d.measured, d.predicted]);
  const lo = Math.min(...values) * 0.8;
  const hi = Math.max(...values) * 1.25;
  const line = Array.from({ length: 41 }, (_, i) => {
    const x = lo * (hi / lo) ** (i / 40);
    return { x, y: x, lo: x * 0.9, hi: x * 1.1 };
  });
  const axis = (t: string) => ({ title: `${t} ${title} (${unit})`, scale: { type: 'log', domain: [lo, hi], nice: false }, axis: { grid: true } });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: `Predicted vs measured ${title}`, subtitle: `${data.length} published runs; band = ±10%` },
    width: 520, height: 520,
    layer: [
      { data: { values: line }, mark: { type: 'area', opacity: 0.15, color: '#4c78a8' }, encoding: { x: { field: 'x', type: 'quantitative', ...axis('measured') }, y: { field: 'lo', type: 'quantitative', ...axis('predicted') }, y2: { field: 'hi' } } },
      { data: { values: line }, mark: { type: 'line', color: '#555', strokeDash: [4, 3] }, encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } } },
      {
        data: { values: data },
        mark: { type: 'point', filled: true, size: 45, opacity: 0.8 },
        encoding: {
          x: { field: 'measured', type: 'quantitative' },
          y: { field: 'predicted', type: 'quantitative' },
          color: { field: 'source', type: 'nominal', title: 'source', legend: { orient: 'bottom', columns: 2, labelLimit: 320 } },
          tooltip: [{ field: 'id' }, { field: 'model' }, { field: 'hardware' }, { field: 'gpus' }, { field: 'measured', format: '.4~g' }, { field: 'predicted', format: '.4~g' }, { field: 'error' }],
        },
      },
    ],
    config: { font: 'DejaVu Sans', axis: { labelFontSize: 11, titleFontSize: 12 }, legend: { labelFontSize: 11, titleFontSize: 12 } },
  };
}

/** Signed error against model size and against GPU count, for one metric. */
export function errorBySpec(rows: Comparison[], metric: MetricName, by: 'parameters' | 'gpus'): object {
  const data = rows.filter((r) => r.metric === metric).map((r) => ({
    id: r.id, source: r.source, model: r.model, hardware: r.hardware,
    x: by === 'parameters' ? r.parameters / 1e9 : r.gpus, error: 100 * r.error,
  }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: `${LABEL[metric].title}: error by ${by === 'parameters' ? 'model size' : 'GPU count'}` },
    width: 520, height: 260,
    layer: [
      { data: { values: [{ y: -10 }, { y: 10 }] }, mark: { type: 'rule', strokeDash: [4, 3], color: '#888' }, encoding: { y: { field: 'y', type: 'quantitative' } } },
      { data: { values: [{ y: 0 }] }, mark: { type: 'rule', color: '#333' }, encoding: { y: { field: 'y', type: 'quantitative' } } },
      {
        data: { values: data },
        mark: { type: 'point', filled: true, size: 40, opacity: 0.75 },
        encoding: {
          x: { field: 'x', type: 'quantitative', scale: { type: 'log' }, title: by === 'parameters' ? 'model parameters (billions)' : 'GPUs' },
          y: { field: 'error', type: 'quantitative', title: 'error: (predicted − measured) / measured (%)' },
          color: { field: 'source', type: 'nominal', title: 'source', legend: { orient: 'bottom', columns: 2, labelLimit: 320 } },
          tooltip: [{ field: 'id' }, { field: 'model' }, { field: 'hardware' }, { field: 'x', title: by }, { field: 'error', format: '.1f' }],
        },
      },
    ],
    config: { font: 'DejaVu Sans', axis: { labelFontSize: 11, titleFontSize: 12 }, legend: { labelFontSize: 11, titleFontSize: 12 } },
  };
}
