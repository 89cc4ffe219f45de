import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatInteger, formatParameterCount, formatSeconds, formatShape, formatValue } from '../../../webview-ui/format';

test('formatValue keeps 4 significant digits and drops trailing zeros', () => {
  assert.equal(formatValue(12.345678), '12.35');
  assert.equal(formatValue(1.0), '1');
  assert.equal(formatValue(0.25), '0.25');
  assert.equal(formatValue(2.0000001), '2');
  assert.equal(formatValue(99994), '99990');
  assert.equal(formatValue(99999.7), '1e5');
  assert.equal(formatValue(0.00099996), '0.001');
  assert.equal(formatValue(0.0012346), '0.001235');
  assert.equal(formatValue(-3.14159), '-3.142');
});

test('formatValue switches to exponent form for tiny and huge values', () => {
  assert.equal(formatValue(1.23456e-7), '1.235e-7');
  assert.equal(formatValue(123456), '1.235e5');
  assert.equal(formatValue(1e20), '1e20');
  assert.equal(formatValue(2.5e-4), '2.5e-4');
  assert.equal(formatValue(1e-3), '0.001');
});

test('formatValue spells out missing and non-finite values', () => {
  assert.equal(formatValue(null), '—');
  assert.equal(formatValue(undefined), '—');
  assert.equal(formatValue(NaN), 'NaN');
  assert.equal(formatValue(Infinity), '∞');
  assert.equal(formatValue(-Infinity), '−∞');
  assert.equal(formatValue(0), '0');
});

test('formatSeconds uses ms below a second, s below a minute, then minutes', () => {
  assert.equal(formatSeconds(0.0123), '12 ms');
  assert.equal(formatSeconds(0.00034), '0.34 ms');
  assert.equal(formatSeconds(0.00001), '<0.1 ms');
  assert.equal(formatSeconds(0), '0 ms');
  assert.equal(formatSeconds(0.9996), '1 s');
  assert.equal(formatSeconds(0.9994), '999 ms');
  assert.equal(formatSeconds(1.5321), '1.53 s');
  assert.equal(formatSeconds(125.2), '2 min 5 s');
  assert.equal(formatSeconds(119.7), '2 min 0 s');
  assert.equal(formatSeconds(null), '—');
  assert.equal(formatSeconds(NaN), '—');
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
  assert.equal(formatParameterCount(1234567), '1,234,567 (1.23 M)');
  assert.equal(formatParameterCount(4200), '4,200 (4.2 k)');
  assert.equal(formatParameterCount(12), '12');
});
