/** Small helpers shared by the benchmarks: percentiles and memory figures. */

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

export function summary(samples: number[]): { n: number; p50: number; p95: number; max: number } {
  const s = [...samples].sort((a, b) => a - b);
  return { n: s.length, p50: percentile(s, 50), p95: percentile(s, 95), max: s[s.length - 1] };
}

export function mib(bytes: number): string {
  return (bytes / 1048576).toFixed(1) + " MiB";
}

export function ms(v: number): string {
  return v.toFixed(2) + " ms";
}
