/** A small seeded PRNG (mulberry32): the demo data set is the same on every start. */
export function seededRandom(seed: number) {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (min: number, max: number): number => min + Math.floor(next() * (max - min + 1)),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T,
    hex: (length: number): string =>
      Array.from({ length }, () => Math.floor(next() * 16).toString(16)).join(""),
    digits: (length: number): string =>
      Array.from({ length }, () => Math.floor(next() * 10)).join(""),
  };
}

export type Random = ReturnType<typeof seededRandom>;
