// Draws the chart layout as SVG with DOM APIs. Colours come from style.css classes only.
// The elements are kept between renders and only their attributes change, so a live run with
// hundreds of layers does not rebuild the whole chart on every layer message.

import { chartLayout, type ChartBar, type ChartLayout, type ChartTick } from './chart';
import { round, setAttr, svg } from './dom';
import { formatNumber } from '../src/protocol/format-number';
import type { Row } from './model';

interface BarElements {
  rect: SVGRectElement;
  title: SVGTitleElement;
  upper: SVGLineElement;
}

export interface ChartView {
  render(layers: readonly Row[]): ChartLayout;
}

function barTitle(bar: ChartBar): string {
  const what = bar.role === 'sigma' ? 'σ' : 'constant';
  if (bar.state === 'pending') return `${bar.index} ${bar.name}: pending`;
  if (bar.state === 'invalid') return `${bar.index} ${bar.name}: invalid (no ${what})`;
  const upper = bar.upperBound !== null ? `, certified ≤ ${formatNumber(bar.upperBound)}` : '';
  return `${bar.index} ${bar.name}: ${what} = ${formatNumber(bar.value ?? 0)}${upper}`;
}

function setNumber(node: Element, name: string, value: number): void {
  setAttr(node, name, round(value));
}

/** Grid lines and decade labels of one plot's log axis, with its title. */
function axisChildren(ticks: readonly ChartTick[], left: number, right: number, top: number, bottom: number, plot: string, title: string): SVGElement[] {
  const children: SVGElement[] = [];
  for (const tick of ticks) {
    children.push(svg('line', { class: `grid grid-${plot}`, x1: left, x2: right, y1: tick.y, y2: tick.y, 'data-value': String(tick.value) }));
    children.push(svg('text', { class: `tick-label tick-${plot}`, x: left - 6, y: tick.y, 'text-anchor': 'end', 'dominant-baseline': 'middle' }, [tick.label]));
  }
  children.push(svg('line', { class: 'axis-line', x1: left, x2: left, y1: top, y2: bottom }));
  children.push(svg('line', { class: 'axis-line', x1: left, x2: right, y1: bottom, y2: bottom }));
  children.push(svg('text', { class: `plot-title plot-title-${plot}`, x: left + 4, y: top + 10 }, [title]));
  return children;
}

export function createChartView(container: HTMLElement): ChartView {
  const root = svg('svg', { class: 'chart-svg', role: 'img' });
  const axis = svg('g', { class: 'axis' });
  const barsGroup = svg('g', { class: 'bars' });
  const labels = svg('g', { class: 'x-labels' });
  const running = svg('g', { class: 'running' });
  const polyline = svg('polyline', { class: 'running-line', points: '' });
  running.append(polyline);
  root.append(axis, barsGroup, labels, running);
  container.replaceChildren(root);

  let bars: BarElements[] = [];
  const points = new Map<number, { circle: SVGCircleElement; title: SVGTitleElement }>();
  let axisKey = '';
  let labelKey = '';

  return {
    render(layers) {
      const layout = chartLayout(layers);
      const { width, height, plotLeft, plotRight, plotTop, plotBottom, runTop, runBottom } = layout;
      setNumber(root, 'width', width);
      setNumber(root, 'height', height);
      setAttr(root, 'viewBox', `0 0 ${round(width)} ${round(height)}`);
      setAttr(root, 'data-lo', String(layout.lo));
      setAttr(root, 'data-hi', String(layout.hi));
      setAttr(root, 'data-run-lo', String(layout.runLo));
      setAttr(root, 'data-run-hi', String(layout.runHi));
      const valued = layout.bars.filter((b) => b.state === 'value' || b.state === 'overflow').length;
      setAttr(
        root,
        'aria-label',
        `σ and constants of ${layout.bars.length} rows on a log scale from ${formatNumber(layout.lo)} to ${formatNumber(layout.hi)} (${valued} computed); below, the running estimate L ≈ on its own log scale from ${formatNumber(layout.runLo)} to ${formatNumber(layout.runHi)}`,
      );

      // Axes, grids and the σ = 1 line: rebuilt only when a domain or the size changes.
      const nextAxisKey = `${layout.lo}|${layout.hi}|${layout.runLo}|${layout.runHi}|${width}|${height}`;
      if (nextAxisKey !== axisKey) {
        axisKey = nextAxisKey;
        axis.replaceChildren(
          ...axisChildren(layout.ticks, plotLeft, plotRight, plotTop, plotBottom, 'bars', 'σ and constants per row'),
          svg('line', { class: 'one-line', x1: plotLeft, x2: plotRight, y1: layout.oneY, y2: layout.oneY }, [svg('title', {}, ['σ = 1'])]),
          ...axisChildren(layout.runTicks, plotLeft, plotRight, runTop, runBottom, 'running', 'running estimate L ≈ from the input'),
        );
      }

      // Bars: one element set per charted row, kept by position.
      if (bars.length !== layout.bars.length) {
        bars = bars.slice(0, layout.bars.length);
        while (bars.length < layout.bars.length) {
          const title = svg('title');
          bars.push({ rect: svg('rect', { class: 'bar' }, [title]), title, upper: svg('line', { class: 'upper-tick' }) });
        }
        barsGroup.replaceChildren(...bars.flatMap((b) => [b.rect, b.upper]));
      }
      layout.bars.forEach((bar, i) => {
        const { rect, title, upper } = bars[i];
        setAttr(rect, 'class', `bar bar-${bar.state} bar-${bar.role}`);
        setNumber(rect, 'x', bar.x);
        setNumber(rect, 'y', bar.y);
        setNumber(rect, 'width', bar.width);
        setNumber(rect, 'height', bar.height);
        setAttr(rect, 'data-index', String(bar.index));
        setAttr(rect, 'data-value', bar.value === null ? '' : String(bar.value));
        const text = barTitle(bar);
        if (title.textContent !== text) title.textContent = text;
        if (bar.upperY === null) {
          setAttr(upper, 'visibility', 'hidden');
        } else {
          setAttr(upper, 'visibility', null);
          setNumber(upper, 'x1', bar.x - 2);
          setNumber(upper, 'x2', bar.x + bar.width + 2);
          setNumber(upper, 'y1', bar.upperY);
          setNumber(upper, 'y2', bar.upperY);
        }
      });

      // Layer names under the lower plot, slanted, abbreviated; the full name is the tooltip.
      const nextLabelKey = layout.labels.map((l) => `${l.index}@${round(l.x)}:${l.full}`).join(',') + `|${layout.labelY}`;
      if (nextLabelKey !== labelKey) {
        labelKey = nextLabelKey;
        labels.replaceChildren(
          ...layout.labels.map((label) => {
            const x = round(label.x);
            const y = round(layout.labelY);
            return svg('text', { class: 'x-label', x, y, 'text-anchor': 'end', transform: `rotate(-60 ${x} ${y})`, 'data-index': String(label.index) }, [
              label.text,
              svg('title', {}, [`${label.index} ${label.full}`]),
            ]);
          }),
        );
      }

      // Running bound: one polyline plus a point (with a tooltip) per charted row that has one.
      setAttr(polyline, 'points', layout.line.map((p) => `${round(p.x)},${round(p.y)}`).join(' '));
      setAttr(running, 'visibility', layout.line.length ? null : 'hidden');
      const seen = new Set<number>();
      for (const point of layout.line) {
        seen.add(point.index);
        let entry = points.get(point.index);
        if (!entry) {
          const title = svg('title');
          entry = { circle: svg('circle', { class: 'running-point', r: 2.5 }, [title]), title };
          points.set(point.index, entry);
        }
        setNumber(entry.circle, 'cx', point.x);
        setNumber(entry.circle, 'cy', point.y);
        setAttr(entry.circle, 'data-index', String(point.index));
        setAttr(entry.circle, 'data-value', String(point.value));
        const text = `L ≈ ${formatNumber(point.value)} up to ${layers[point.index].name}`;
        if (entry.title.textContent !== text) entry.title.textContent = text;
      }
      for (const [index, entry] of points) {
        if (!seen.has(index)) {
          entry.circle.remove();
          points.delete(index);
        }
      }
      // Keep the circles in network order after the polyline.
      let previous: Element = polyline;
      for (const point of layout.line) {
        const circle = (points.get(point.index) as { circle: SVGCircleElement }).circle;
        if (previous.nextSibling !== circle) previous.after(circle);
        previous = circle;
      }
      return layout;
    },
  };
}
