/**
 * The warm-up schedule of Stan's windowed metric adaptation (Stan Reference Manual, "HMC algorithm parameters:
 * automatic parameter tuning"): an initial fast interval (step size only, the chain finds the typical set), then
 * slow windows of doubling length whose draws estimate the covariance (the metric is updated at the end of each),
 * then a terminal fast interval (step size only, for the final metric).
 *
 *   defaults: initial buffer 75, first slow window 25, terminal buffer 50;
 *   when warmup < initial + first window + terminal, they become 15%, 75% and 10% of the warm-up;
 *   a window is stretched to the end of the slow phase when the next (doubled) window would not fit in it;
 *   with fewer than 20 warm-up iterations the metric is not adapted (step size only).
 */

export interface MetricSchedule {
  /** First iteration (0-based) whose draw enters a covariance estimate. */
  slowStart: number;
  /** First iteration of the terminal buffer. */
  slowEnd: number;
  /** The metric is updated after iteration end - 1 of each window, for each `end` listed (ascending). */
  windowEnds: number[];
}

export function metricSchedule(warmup: number, initBuffer: number, baseWindow: number, termBuffer: number): MetricSchedule {
  if (warmup < 20) return { slowStart: warmup, slowEnd: warmup, windowEnds: [] };
  let init = initBuffer, base = baseWindow, term = termBuffer;
  if (init + base + term > warmup) {
    init = Math.floor(0.15 * warmup);
    term = Math.floor(0.1 * warmup);
    base = warmup - init - term;
  }
  const slowEnd = warmup - term;
  const windowEnds: number[] = [];
  let start = init, size = base;
  while (start < slowEnd) {
    let end = Math.min(start + size, slowEnd);
    // the next window would have size 2 * size: if it does not fit, this one runs to the end of the slow phase
    if (end + 2 * size > slowEnd) end = slowEnd;
    windowEnds.push(end);
    start = end;
    size *= 2;
  }
  return { slowStart: init, slowEnd, windowEnds };
}
