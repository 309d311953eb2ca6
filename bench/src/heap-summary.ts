/** What fills a V8 heap snapshot: self size by constructor, and the largest strings. */
export interface HeapSnapshot {
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

/**
 * Calls `visit` with each node of `snapshot`: its type, its name (a constructor's, or a string's
 * text), its kind (the constructor of an object, native object or closure; `(type)` for strings,
 * code, arrays…) and its self size in bytes.
 */
function forEachNode(
  snapshot: HeapSnapshot,
  visit: (type: string, name: string, kind: string, size: number) => void,
): void {
  const fields = snapshot.snapshot.meta.node_fields;
  const types = snapshot.snapshot.meta.node_types[0];
  const width = fields.length;
  const typeAt = fields.indexOf("type");
  const nameAt = fields.indexOf("name");
  const sizeAt = fields.indexOf("self_size");
  for (let i = 0; i < snapshot.nodes.length; i += width) {
    const type = types[snapshot.nodes[i + typeAt]!]!;
    const name = snapshot.strings[snapshot.nodes[i + nameAt]!] ?? "";
    const kind = type === "object" || type === "native" || type === "closure" ? name : `(${type})`;
    visit(type, name, kind, snapshot.nodes[i + sizeAt]!);
  }
}

export function summariseHeap(snapshot: HeapSnapshot, top = 25): HeapSummary {
  const byName = new Map<string, number>();
  const strings: Array<[number, string]> = [];
  let total = 0;
  forEachNode(snapshot, (type, name, kind, size) => {
    total += size;
    byName.set(kind, (byName.get(kind) ?? 0) + size);
    if (type === "string" && size > 100_000) strings.push([size, name]);
  });
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

/** Objects of one kind in a heap snapshot: how many, and their self size in bytes. */
export interface HeapKind {
  count: number;
  bytes: number;
}

/** Every object of a snapshot by constructor (or `(type)` for strings, code, arrays…). */
export function heapByKind(snapshot: HeapSnapshot): Map<string, HeapKind> {
  const kinds = new Map<string, HeapKind>();
  forEachNode(snapshot, (_type, _name, key, size) => {
    const kind = kinds.get(key) ?? { count: 0, bytes: 0 };
    kind.count += 1;
    kind.bytes += size;
    kinds.set(key, kind);
  });
  return kinds;
}

/**
 * What `after` holds more than `before`, per `per` (e.g. per subscription opened in between):
 * the kinds that grew most, with their added objects and bytes, and the total.
 */
export function heapGrowth(
  before: Map<string, HeapKind>,
  after: Map<string, HeapKind>,
  per: number,
  top = 30,
): { totalBytesPer: number; kinds: Array<{ name: string; countPer: number; bytesPer: number }> } {
  const grown: Array<{ name: string; countPer: number; bytesPer: number }> = [];
  let total = 0;
  for (const [name, kind] of after) {
    const was = before.get(name) ?? { count: 0, bytes: 0 };
    total += kind.bytes - was.bytes;
    grown.push({
      name: name.slice(0, 80),
      countPer: Math.round(((kind.count - was.count) / per) * 100) / 100,
      bytesPer: Math.round((kind.bytes - was.bytes) / per),
    });
  }
  for (const [name, was] of before)
    if (!after.has(name)) {
      total -= was.bytes;
      grown.push({
        name: name.slice(0, 80),
        countPer: -was.count / per,
        bytesPer: -Math.round(was.bytes / per),
      });
    }
  return {
    totalBytesPer: Math.round(total / per),
    kinds: grown.sort((a, b) => b.bytesPer - a.bytesPer).slice(0, top),
  };
}
