/**
 * Box-uniform prior support. The estimators are unbounded flows; a bounded posterior is obtained by
 * rejecting samples outside the box and renormalizing the density by the accepted mass
 * (see posterior.ts and docs/onnx-contract.md).
 *
 * @example
 * const b: Bounds = { low: [-1, -1], high: [1, 1] };
 * checkBounds(b, 2);
 * insideBounds(theta, row, b);
 */

/** Lower and upper limit per parameter (low < high; ±Infinity leaves a side open). */
export interface Bounds {
  low: number[];
  high: number[];
}

/** @throws RangeError when the bounds do not have `dim` entries or a low is not below its high. */
export function checkBounds(b: Bounds, dim: number): void {
  if (!Array.isArray(b.low) || !Array.isArray(b.high) || b.low.length !== dim || b.high.length !== dim) {
    throw new RangeError(
      `bounds must have ${dim} low and ${dim} high values, got ${b.low?.length ?? 0} and ${b.high?.length ?? 0}`,
    );
  }
  for (let d = 0; d < dim; d++) {
    if (Number.isNaN(b.low[d]) || Number.isNaN(b.high[d]) || !(b.low[d] < b.high[d])) {
      throw new RangeError(`bounds of parameter ${d}: low ${b.low[d]} must be below high ${b.high[d]}`);
    }
  }
}

/** Whether row `row` of a row-major theta array lies inside the box (limits inclusive). */
export function insideBounds(theta: Float32Array, row: number, b: Bounds): boolean {
  const dim = b.low.length;
  for (let d = 0; d < dim; d++) {
    const v = theta[row * dim + d];
    if (!(v >= b.low[d] && v <= b.high[d])) return false;
  }
  return true;
}
