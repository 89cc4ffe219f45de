import { test } from 'node:test';
import assert from 'node:assert/strict';
import { abbreviateName, chartLayout, DEFAULT_CHART_OPTIONS, isCharted, logDomain, logY } from '../../../webview-ui/chart';
import { applyMessage } from '../../../webview-ui/model';
import { doneState, plannedState, RESULTS } from './fixtures';

const close = (a: number, b: number, eps = 1e-9) => assert.ok(Math.abs(a - b) <= eps, `${a} ≉ ${b}`);

test('logDomain spans whole decades around every value and 1', () => {
  // 0.0123 sits less than a fifth of a decade above 0.01: the floor moves down a decade.
  assert.deepEqual(logDomain([3.2, 45.6, 0.0123]), { lo: 0.001, hi: 100 });
  assert.deepEqual(logDomain([3.2, 45.6, 0.02]), { lo: 0.01, hi: 100 });
  assert.deepEqual(logDomain([]), { lo: 0.1, hi: 1 });
  assert.deepEqual(logDomain([1]), { lo: 0.1, hi: 1 });
  assert.deepEqual(logDomain([10, 100]), { lo: 0.1, hi: 100 });
  assert.deepEqual(logDomain([NaN, Infinity, 0, -2, 5]), { lo: 0.1, hi: 10 });
});

test('logY maps decades to equal steps', () => {
  close(logY(1, 0.01, 100, 0, 100), 50);
  close(logY(100, 0.01, 100, 0, 100), 0);
  close(logY(0.01, 0.01, 100, 0, 100), 100);
  close(logY(10, 0.01, 100, 0, 100) - logY(100, 0.01, 100, 0, 100), 25);
});

test('one bar per weighted row and per fixed constant other than 1, heights proportional to log σ above the domain floor', () => {
  const layout = chartLayout(doneState().layers);
  assert.deepEqual(layout.bars.map((b) => b.index), [0, 3, 4, 6], 'the sigmoid\'s 0.25 is a factor; ReLU, pooling, flatten and softmax (1) are not');
  assert.deepEqual(layout.bars.map((b) => b.role), ['sigma', 'sigma', 'constant', 'sigma']);
  assert.equal(layout.lo, 0.001);
  assert.equal(layout.hi, 100, 'the constants\' axis ignores the running bound (146.84): it has its own');
  const plot = layout.plotBottom - layout.plotTop;
  for (const bar of layout.bars) {
    assert.equal(bar.state, 'value');
    const expected = (plot * (Math.log10(bar.value as number) - Math.log10(layout.lo))) / (Math.log10(layout.hi) - Math.log10(layout.lo));
    close(bar.height, expected, 1e-6);
    close(bar.y + bar.height, layout.plotBottom);
  }
  // σ ratio 45.678 / 3.2146 is the height difference in decades.
  const [a, b] = layout.bars;
  close((b.height - a.height) / plot, Math.log10(45.678 / 3.2146) / 5, 1e-9);
  const weighted = layout.bars.filter((bar) => bar.role === 'sigma');
  assert.ok(weighted.every((bar) => bar.upperY !== null && bar.upperY < bar.y), 'upper bounds sit above their σ');
  assert.equal(layout.bars[2].upperY, null, 'a fixed constant has no separate upper tick');
});

test('the running bound has its own plot and log axis below the bars, a point per charted row with a bound', () => {
  const layout = chartLayout(doneState().layers);
  assert.deepEqual(layout.line.map((p) => p.value), [3.2146, 146.84, 36.71, 0.45153]);
  layout.line.forEach((point, i) => close(point.x, layout.bars[i].x + layout.bars[i].width / 2));
  assert.ok(layout.runTop > layout.plotBottom, 'the second plot is below the first');
  assert.equal(layout.runLo, 0.1);
  assert.equal(layout.runHi, 1000);
  close(layout.line[1].y, logY(146.84, layout.runLo, layout.runHi, layout.runTop, layout.runBottom));
  assert.deepEqual(layout.runTicks.map((t) => t.label), ['0.1', '1', '10', '100', '1000']);
  // A bound of 6e43 (the MobileNet of the issue) does not flatten the σ bars: their axis stays at their own decades.
  const huge = doneState().layers.map((row, i) => (i === 6 ? { ...row, runningBound: 6e43 } : row));
  const wide = chartLayout(huge);
  assert.equal(wide.hi, 100);
  assert.equal(wide.runHi, 1e44);
  close(wide.bars[1].height, layout.bars[1].height);
});

test('planned, invalid, zero and infinite σ get flat or full bars with their state', () => {
  let panel = plannedState();
  let layout = chartLayout(panel.layers);
  assert.deepEqual(layout.bars.map((b) => b.state), ['pending', 'pending', 'pending']);
  assert.ok(layout.bars.every((b) => b.height === DEFAULT_CHART_OPTIONS.stubHeight && b.y + b.height === layout.plotBottom));
  assert.equal(layout.line.length, 0);
  panel = applyMessage(panel, { type: 'layer', index: 0, layer: { ...RESULTS[0].layer, sigma: null }, done: 1, total: 8, runningBound: null });
  panel = applyMessage(panel, { type: 'layer', index: 3, layer: { ...RESULTS[3].layer, sigma: 0 }, done: 2, total: 8, runningBound: 0 });
  panel = applyMessage(panel, { type: 'layer', index: 6, layer: { ...RESULTS[6].layer, sigma: Infinity }, done: 3, total: 8, runningBound: Infinity });
  layout = chartLayout(panel.layers);
  assert.deepEqual(layout.bars.map((b) => b.state), ['invalid', 'zero', 'overflow']);
  assert.equal(layout.bars[0].y, layout.plotTop, 'an invalid bar fills the plot');
  assert.equal(layout.bars[1].height, DEFAULT_CHART_OPTIONS.stubHeight);
  assert.equal(layout.bars[2].y, layout.plotTop);
  assert.equal(layout.line.length, 0, 'no point for a zero or infinite running bound');
});

test('the chart grows with the number of bars and labels decades', () => {
  const few = chartLayout(doneState().layers);
  assert.equal(few.width, DEFAULT_CHART_OPTIONS.marginLeft + 4 * DEFAULT_CHART_OPTIONS.maxSlot + DEFAULT_CHART_OPTIONS.marginRight);
  assert.deepEqual(few.ticks.map((t) => t.label), ['0.001', '0.01', '0.1', '1', '10', '100']);
  assert.equal(few.bars[0].width + (few.bars[1].x - few.bars[0].x - few.bars[0].width), DEFAULT_CHART_OPTIONS.maxSlot, 'few bars get wide slots');
  const many = Array.from({ length: 100 }, (_, i) => ({ ...RESULTS[0].layer, name: `l${i}`, sigma: 10 ** ((i % 30) - 15) }));
  const layout = chartLayout(many);
  assert.equal(layout.bars.length, 100);
  assert.equal(layout.width, DEFAULT_CHART_OPTIONS.marginLeft + 100 * DEFAULT_CHART_OPTIONS.minSlot + DEFAULT_CHART_OPTIONS.marginRight);
  assert.ok(layout.ticks.length <= 9, 'a wide domain labels every few decades');
  assert.equal(layout.ticks[0].label, '1e-16');
  assert.equal(layout.labels.length, 100, 'a 14 px slot still names every bar');
});

test('layer names label the axis, abbreviated to the trailing segments that name layers, with the full name kept', () => {
  assert.equal(abbreviateName('/layer1/layer1.0/conv1/Conv'), 'layer1.0/conv1');
  assert.equal(abbreviateName('StatefulPartitionedCall/functional_1/conv2d_1/BiasAdd'), 'conv2d_1');
  assert.equal(abbreviateName('StatefulPartitionedCall/functional_1/conv2d/Relu'), 'conv2d', 'a Keras layer called conv2d is a layer name (case matters)');
  assert.equal(abbreviateName('MobileFaceNet/MobileFaceNet/Conv2d_0/BatchNorm/FusedBatchNorm'), 'Conv2d_0');
  assert.equal(abbreviateName('conv1'), 'conv1');
  assert.equal(abbreviateName('Relu'), 'Relu', 'a name that is only an op keeps it');
  const long = abbreviateName('model/a_very_long_layer_name_indeed_42');
  assert.equal(long.length, DEFAULT_CHART_OPTIONS.labelChars);
  assert.match(long, /^a_very_l.*….*ndeed_42$/);
  const layout = chartLayout(doneState().layers.map((row) => ({ ...row, name: `model/net/block/${row.name}/Conv` })));
  assert.deepEqual(layout.labels.map((l) => l.text), ['net/block/conv1', 'net/block/conv2', 'net/block/sigmoid', 'model/net/block/fc']);
  assert.deepEqual(layout.labels.map((l) => l.full), ['model/net/block/conv1/Conv', 'model/net/block/conv2/Conv', 'model/net/block/sigmoid/Conv', 'model/net/block/fc/Conv']);
  layout.labels.forEach((label, i) => close(label.x, layout.bars[i].x + layout.bars[i].width / 2));
});

test('a batch norm folded into its convolution gets no bar of its own', () => {
  const layers = doneState().layers.map((row, i) => (i === 2 ? { ...row, kind: 'normalization' as const, op: 'BatchNormalization', sigma: 3.5, note: 'folded into conv1: counted there, as 1 here' } : row));
  assert.equal(isCharted(layers[2]), false);
  assert.equal(isCharted({ ...layers[2], note: undefined }), true, 'an unfolded batch norm is a factor');
});
