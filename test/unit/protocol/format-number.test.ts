import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatInteger, formatModelLine, formatNumber, formatParameterCount, formatSeconds, formatShape } from '../../../src/protocol/format-number';
import { formatNumber as cliFormatNumber } from '../../../src/cli/table';

test('formatNumber keeps 4 significant digits and drops trailing zeros', () => {
  assert.equal(formatNumber(12.345678), '12.35');
  assert.equal(formatNumber(1.0), '1');
  assert.equal(formatNumber(0.25), '0.25');
  assert.equal(formatNumber(2.0000001), '2');
  assert.equal(formatNumber(99994), '99990');
  assert.equal(formatNumber(0.00099996), '0.001');
  assert.equal(formatNumber(0.0012346), '0.001235');
  assert.equal(formatNumber(-3.14159), '-3.142');
});

test('formatNumber decides the exponent form after rounding: 99999.7 is 1e5, never 100000', () => {
  assert.equal(formatNumber(99999.7), '1e5');
  assert.equal(formatNumber(-99999.7), '-1e5');
  assert.equal(formatNumber(99999.7, 6), '99999.7');
});

test('formatNumber switches to exponent form for tiny and huge values', () => {
  assert.equal(formatNumber(1e-7), '1e-7');
  assert.equal(formatNumber(1.23456e-7), '1.235e-7');
  assert.equal(formatNumber(-2.5e-4), '-2.5e-4');
  assert.equal(formatNumber(123456), '1.235e5');
  assert.equal(formatNumber(1.094e7), '1.094e7');
  assert.equal(formatNumber(6.1e43), '6.1e43');
  assert.equal(formatNumber(1e-3), '0.001');
});

test('formatNumber spells out zero, missing and non-finite values', () => {
  assert.equal(formatNumber(0), '0');
  assert.equal(formatNumber(-0), '0');
  assert.equal(formatNumber(null), '—');
  assert.equal(formatNumber(undefined), '—');
  assert.equal(formatNumber(NaN), 'NaN');
  assert.equal(formatNumber(Infinity), '∞');
  assert.equal(formatNumber(-Infinity), '−∞');
});

test('the CLI table formats through the same function', () => {
  assert.equal(cliFormatNumber, formatNumber);
});

test('formatSeconds uses ms below a second, s below a minute, then minutes; never "60 s"', () => {
  assert.equal(formatSeconds(0.0123), '12 ms');
  assert.equal(formatSeconds(0.00034), '0.34 ms');
  assert.equal(formatSeconds(0.00001), '<0.1 ms');
  assert.equal(formatSeconds(0), '0 ms');
  assert.equal(formatSeconds(0.9996), '1 s');
  assert.equal(formatSeconds(0.9994), '999 ms');
  assert.equal(formatSeconds(1.5321), '1.53 s');
  assert.equal(formatSeconds(59.94), '59.9 s');
  assert.equal(formatSeconds(59.96), '1 min 0 s');
  assert.equal(formatSeconds(125.2), '2 min 5 s');
  assert.equal(formatSeconds(119.7), '2 min 0 s');
  assert.equal(formatSeconds(179.6), '3 min 0 s');
  assert.equal(formatSeconds(null), '—');
  assert.equal(formatSeconds(NaN), '—');
  assert.equal(formatSeconds(-1), '—');
});

test('formatShape joins dimensions and names scalars', () => {
  assert.equal(formatShape([1, 3, 224, 224]), '1×3×224×224');
  assert.equal(formatShape([]), 'scalar');
  assert.equal(formatShape(null), '—');
  assert.equal(formatShape(['batch', 3, -1]), 'batch×3×?');
});

test('integer and parameter counts are grouped', () => {
  assert.equal(formatInteger(1234567), '1,234,567');
  assert.equal(formatInteger(999), '999');
  assert.equal(formatInteger(-1234), '−1,234');
  assert.equal(formatParameterCount(1234567), '1,234,567 (1.23 M)');
  assert.equal(formatParameterCount(4200), '4,200 (4.2 k)');
  assert.equal(formatParameterCount(12), '12');
});

test('the model line names the signal input and the outputs used when the report has them', () => {
  assert.equal(formatModelLine({ path: 'a.onnx', format: 'onnx', inputShape: [1, 3, 8, 8] }), 'a.onnx · onnx · input 1×3×8×8');
  assert.equal(
    formatModelLine({ path: 'vad.onnx', format: 'onnx', inputShape: [1, 512], signalInput: 'input', outputsUsed: ['output'] }),
    'vad.onnx · onnx · input input: 1×512 · output output',
  );
  assert.equal(formatModelLine({ path: 'm.onnx', format: 'onnx', inputShape: [1, 4], outputsUsed: ['y', 'h'] }), 'm.onnx · onnx · input 1×4 · outputs y, h');
});
