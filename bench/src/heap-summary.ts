/** What fills a V8 heap snapshot: self size by constructor, and the largest strings. */
interface HeapSnapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

export interface HeapSummary {
  totalMb: number;
  byConstructor: Array<{ name: string; mb: number }>;
  largestStrings: Array<{ mb: number; start: string }>;
}

const mb = (bytes: number) => Math.round((bytes / 2 ** 20) * 100) / 100;

export function summariseHeap(snapshot: HeapSnapshot, top = 25): HeapSummary {
  const fields = snapshot.snapshot.meta.node_fields;
  const types = snapshot.snapshot.meta.node_types[0];
  const width = fields.length;
  const typeAt = fields.indexOf("type");
  const nameAt = fields.indexOf("name");
  const sizeAt = fields.indexOf("self_size");
  const byName = new Map<string, number>();
  const strings: Array<[number, string]> = [];
  let total = 0;
  for (let i = 0; i < snapshot.nodes.length; i += width) {
    const type = types[snapshot.nodes[i + typeAt]!]!;
    const size = snapshot.nodes[i + sizeAt]!;
    const name = snapshot.strings[snapshot.nodes[i + nameAt]!] ?? "";
    total += size;
    const key = type === "object" || type === "native" || type === "closure" ? name : `(${type})`;
    byName.set(key, (byName.get(key) ?? 0) + size);
    if (type === "string" && size > 100_000) strings.push([size, name]);
  }
  return {
    totalMb: mb(total),
    byConstructor: [...byName]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, size]) => ({ name: name.slice(0, 80), mb: mb(size) })),
    largestStrings: strings
      .sort((a, b) => b[0] - a[0])
      .slice(0, 10)
      .map(([size, text]) => ({ mb: mb(size), start: text.slice(0, 80) })),
  };
}
