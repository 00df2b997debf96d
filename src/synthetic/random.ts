// What both generators of synthetic data (acts.ts, offers.ts) draw from: a small PRNG of our own, so
// that one seed gives the same data on every machine (not Math.random).

export type Random = () => number;

/** mulberry32: a 32-bit state, spread enough for synthetic data, and reproducible. */
export function prng(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function pick<T>(random: Random, items: readonly T[]): T {
  const item = items[Math.floor(random() * items.length)];
  if (item === undefined) throw new RangeError('pick from an empty list');
  return item;
}
