/**
 * The report's charts of tumour burden, rendered to static SVG strings on the server side with Apache
 * ECharts' SSR renderer (`renderToSVGString`, no DOM, no canvas, no script in the page). Chosen over
 * Vega-Lite because the current Vega and Vega-Lite majors are ES-module-only and need Node 22, while
 * ECharts ships a CommonJS build that this Node 20 CommonJS package loads as it is.
 */
import * as echarts from 'echarts';
import type { CohortRow } from './table';

const WIDTH = 960;
const HEIGHT = 320;
/** Above this many slides the per-slide axis carries no names (they would overlap). */
const MAX_NAMED_BARS = 60;

function render(option: echarts.EChartsOption): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width: WIDTH, height: HEIGHT });
  try {
    chart.setOption({ animation: false, ...option });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

type Done = CohortRow & { tumourAreaMm2: number; tumourSharePct: number };

function done(rows: readonly CohortRow[]): Done[] {
  return rows.filter((r): r is Done => r.status === 'ok' && r.tumourAreaMm2 !== null && r.tumourSharePct !== null);
}

/** Tumour area of every segmented slide, largest first, with its share of the tissue as a line. */
export function burdenChart(rows: readonly CohortRow[]): string {
  const slides = done(rows).sort((a, b) => b.tumourAreaMm2 - a.tumourAreaMm2);
  const named = slides.length <= MAX_NAMED_BARS;
  return render({
    title: { text: 'Tumour area per slide', left: 8, textStyle: { fontSize: 14 } },
    legend: { top: 4, right: 8, data: ['tumour area (mm²)', 'share of tissue (%)'] },
    grid: { left: 64, right: 64, top: 60, bottom: named ? 96 : 32 },
    xAxis: {
      type: 'category',
      data: slides.map((s) => s.name),
      axisLabel: { show: named, rotate: 45, interval: 0, fontSize: 10 },
      name: named ? '' : `${slides.length} slides, largest tumour area first`,
      nameLocation: 'middle',
    },
    yAxis: [
      { type: 'value', name: 'mm²' },
      { type: 'value', name: '%', splitLine: { show: false } },
    ],
    series: [
      {
        name: 'tumour area (mm²)',
        type: 'bar',
        data: slides.map((s) => s.tumourAreaMm2),
        itemStyle: { color: '#c80000' },
        barMaxWidth: 48,
      },
      {
        name: 'share of tissue (%)',
        type: 'line',
        yAxisIndex: 1,
        data: slides.map((s) => s.tumourSharePct),
        itemStyle: { color: '#1f5fa8' },
        symbolSize: 5,
      },
    ],
  });
}

/** How many slides fall in each 10 % band of tumour share of tissue (the last band is open). */
export function shareHistogram(rows: readonly CohortRow[]): string {
  const bands = Array.from({ length: 11 }, (_, i) => (i < 10 ? `${i * 10}-${i * 10 + 10}` : '≥100'));
  const counts = new Array<number>(bands.length).fill(0);
  for (const s of done(rows)) counts[Math.min(10, Math.floor(s.tumourSharePct / 10))]! += 1;
  return render({
    title: { text: 'Slides by tumour share of tissue', left: 8, textStyle: { fontSize: 14 } },
    grid: { left: 64, right: 32, top: 72, bottom: 48 },
    xAxis: { type: 'category', data: bands, name: 'tumour share of tissue (%)', nameLocation: 'middle', nameGap: 28 },
    yAxis: { type: 'value', name: 'slides', minInterval: 1 },
    series: [
      {
        type: 'bar',
        data: counts,
        itemStyle: { color: '#c80000' },
        label: {
          show: true,
          position: 'top',
          formatter: (p: { value: unknown }) =>
            Number(p.value) > 0 ? `${Number(p.value)} slide${Number(p.value) > 1 ? 's' : ''}` : '',
        },
      },
    ],
  });
}
