/**
 * Min-max decimation for drawing long traces: each output bucket keeps the smallest and largest
 * sample of its input range, in time order, so spikes and troughs survive at any zoom level.
 *
 * @example
 * const { x, y } = decimateMinMax(trace, 0, trace.length, 1600, (i) => i / sampleRate);
 */
export function decimateMinMax(
  values: ArrayLike<number>,
  start: number,
  end: number,
  buckets: number,
  xOf: (index: number) => number,
): { x: Float64Array; y: Float64Array } {
  const lo = Math.max(0, Math.floor(start));
  const hi = Math.min(values.length, Math.ceil(end));
  const n = hi - lo;
  if (n <= 0) return { x: new Float64Array(0), y: new Float64Array(0) };
  if (n <= buckets * 2) {
    const x = new Float64Array(n);
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      x[i] = xOf(lo + i);
      y[i] = values[lo + i];
    }
    return { x, y };
  }
  const x = new Float64Array(buckets * 2);
  const y = new Float64Array(buckets * 2);
  let k = 0;
  for (let b = 0; b < buckets; b++) {
    const s = lo + Math.floor((b * n) / buckets);
    const e = lo + Math.floor(((b + 1) * n) / buckets);
    let iMin = s;
    let iMax = s;
    for (let i = s + 1; i < e; i++) {
      if (values[i] < values[iMin]) iMin = i;
      if (values[i] > values[iMax]) iMax = i;
    }
    const first = Math.min(iMin, iMax);
    const second = Math.max(iMin, iMax);
    x[k] = xOf(first);
    y[k++] = values[first];
    x[k] = xOf(second);
    y[k++] = values[second];
  }
  return { x, y };
}
