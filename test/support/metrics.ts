/** Reading a Prometheus text exposition in tests: one sample's value by metric name and exact labels. */

/** Parses `name{a="x",b="y"} 12` lines; comments and other metrics are skipped. */
export function samples(text: string, name: string): Array<{ labels: Record<string, string>; value: number }> {
  const out: Array<{ labels: Record<string, string>; value: number }> = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ labels, value: Number(m[3]) });
  }
  return out;
}

/** The value of the sample whose labels are exactly `labels`; 0 when there is none (a counter not yet moved). */
export function sampleValue(text: string, name: string, labels: Record<string, string> = {}): number {
  const want = JSON.stringify(Object.entries(labels).sort());
  const hit = samples(text, name).find((s) => JSON.stringify(Object.entries(s.labels).sort()) === want);
  return hit?.value ?? 0;
}
