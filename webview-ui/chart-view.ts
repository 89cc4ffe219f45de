// Draws the chart layout as SVG with DOM APIs. Colours come from style.css classes only.

import { chartLayout, type ChartLayout } from './chart';
import { round, svg } from './dom';
import { formatValue } from './format';
import type { Row } from './model';

export function renderChart(container: HTMLElement, layers: readonly Row[]): ChartLayout {
  const layout = chartLayout(layers);
  const { width, height, plotLeft, plotRight, plotTop, plotBottom } = layout;
  const valued = layout.bars.filter((b) => b.state === 'value' || b.state === 'overflow').length;
  const root = svg('svg', {
    class: 'chart-svg',
    width,
    height,
    viewBox: `0 0 ${round(width)} ${round(height)}`,
    role: 'img',
    'aria-label': `σ of ${layout.bars.length} weighted layers on a log scale (${valued} computed), with the running bound as a line`,
    'data-lo': layout.lo,
    'data-hi': layout.hi,
  });

  const axis = svg('g', { class: 'axis' });
  for (const tick of layout.ticks) {
    axis.append(svg('line', { class: 'grid', x1: plotLeft, x2: plotRight, y1: tick.y, y2: tick.y, 'data-value': String(tick.value) }));
    axis.append(svg('text', { class: 'tick-label', x: plotLeft - 6, y: tick.y, 'text-anchor': 'end', 'dominant-baseline': 'middle' }, [tick.label]));
  }
  axis.append(svg('line', { class: 'axis-line', x1: plotLeft, x2: plotLeft, y1: plotTop, y2: plotBottom }));
  axis.append(svg('line', { class: 'axis-line', x1: plotLeft, x2: plotRight, y1: plotBottom, y2: plotBottom }));
  axis.append(svg('line', { class: 'one-line', x1: plotLeft, x2: plotRight, y1: layout.oneY, y2: layout.oneY }, [svg('title', {}, ['σ = 1'])]));
  root.append(axis);

  const bars = svg('g', { class: 'bars' });
  const labelEvery = Math.max(1, Math.ceil(layout.bars.length / 30));
  layout.bars.forEach((bar, i) => {
    const text =
      bar.state === 'pending'
        ? `${bar.name}: pending`
        : bar.state === 'invalid'
          ? `${bar.name}: invalid`
          : `${bar.name}: σ = ${formatValue(bar.value ?? 0)}${bar.upperBound !== null ? `, upper bound ${formatValue(bar.upperBound)}` : ''}`;
    bars.append(
      svg(
        'rect',
        {
          class: `bar bar-${bar.state}`,
          x: bar.x,
          y: bar.y,
          width: bar.width,
          height: bar.height,
          'data-index': String(bar.index),
          'data-value': bar.value === null ? '' : String(bar.value),
        },
        [svg('title', {}, [text])],
      ),
    );
    if (bar.upperY !== null) {
      bars.append(svg('line', { class: 'upper-tick', x1: bar.x - 2, x2: bar.x + bar.width + 2, y1: bar.upperY, y2: bar.upperY }));
    }
    if (i % labelEvery === 0) {
      bars.append(svg('text', { class: 'x-label', x: bar.x + bar.width / 2, y: plotBottom + 14, 'text-anchor': 'middle' }, [String(bar.index)]));
    }
  });
  root.append(bars);

  if (layout.line.length > 0) {
    const line = svg('g', { class: 'running' });
    line.append(svg('polyline', { class: 'running-line', points: layout.line.map((p) => `${round(p.x)},${round(p.y)}`).join(' ') }));
    for (const point of layout.line) {
      line.append(
        svg('circle', { class: 'running-point', cx: point.x, cy: point.y, r: 2.5, 'data-index': String(point.index), 'data-value': String(point.value) }, [
          svg('title', {}, [`running bound after ${layers[point.index].name}: ${formatValue(point.value)}`]),
        ]),
      );
    }
    root.append(line);
  }

  container.replaceChildren(root);
  return layout;
}
