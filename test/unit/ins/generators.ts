// Test oracle and generators for NIR/NIA numbers. The oracle computes the key with BigInt over the whole
// 13 digits, independently of the fast path in src/ins/nir.ts.
import fc from 'fast-check';

export function oracleKey(body: string): number {
  const letter = body[6];
  const digits = letter === 'A' ? `${body.slice(0, 5)}19${body.slice(7)}` : letter === 'B' ? `${body.slice(0, 5)}18${body.slice(7)}` : body;
  return Number(97n - (BigInt(digits) % 97n));
}

export function withKey(body: string): string {
  return body + String(oracleKey(body)).padStart(2, '0');
}

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

/** Month positions: a real month, or a code for an incomplete civil record (20–30, 50–99). */
export const monthArb = fc.oneof(
  fc.integer({ min: 1, max: 12 }).map((m) => pad(m, 2)),
  fc.integer({ min: 20, max: 30 }).map((m) => pad(m, 2)),
  fc.integer({ min: 50, max: 99 }).map((m) => pad(m, 2)),
);

/** Positions 6–10: department + commune, or 99 + country. */
export const placeArb = fc.oneof(
  fc.tuple(fc.integer({ min: 1, max: 96 }), fc.integer({ min: 1, max: 999 })).map(([d, c]) => pad(d, 2) + pad(c, 3)),
  fc.tuple(fc.constantFrom('2A', '2B'), fc.integer({ min: 1, max: 999 })).map(([d, c]) => d + pad(c, 3)),
  fc
    .tuple(fc.constantFrom(971, 972, 973, 974, 975, 976, 977, 978, 984, 985, 986, 987, 988, 989), fc.integer({ min: 1, max: 99 }))
    .map(([d, c]) => String(d) + pad(c, 2)),
  fc.integer({ min: 1, max: 999 }).map((c) => `99${pad(c, 3)}`),
);

export interface NirParts {
  readonly sex: '1' | '2';
  readonly year: string;
  readonly month: string;
  readonly place: string;
  readonly order: string;
}

export const nirPartsArb: fc.Arbitrary<NirParts> = fc.record({
  sex: fc.constantFrom<'1' | '2'>('1', '2'),
  year: fc.integer({ min: 0, max: 99 }).map((y) => pad(y, 2)),
  month: monthArb,
  place: placeArb,
  order: fc.integer({ min: 1, max: 999 }).map((o) => pad(o, 3)),
});

export function nirOf(parts: NirParts): string {
  return withKey(parts.sex + parts.year + parts.month + parts.place + parts.order);
}

export const validNirArb: fc.Arbitrary<string> = nirPartsArb.map(nirOf);

export const corsicanNirArb: fc.Arbitrary<string> = fc
  .record({
    parts: nirPartsArb,
    department: fc.constantFrom('2A', '2B'),
    commune: fc.integer({ min: 1, max: 999 }).map((c) => pad(c, 3)),
  })
  .map(({ parts, department, commune }) => nirOf({ ...parts, place: department + commune }));

/** Traits a person with this number would have: all coherent with it. */
export function coherentTraits(parts: NirParts): { sex: 'male' | 'female'; birthDate: string; birthplaceCode: string } {
  const month = Number(parts.month);
  const realMonth = month >= 1 && month <= 12 ? parts.month : '12';
  return {
    sex: parts.sex === '1' ? 'male' : 'female',
    birthDate: `19${parts.year}-${realMonth}-15`,
    birthplaceCode: parts.place,
  };
}

/** The characters that may stand at a position of some valid number: digits, and A/B at position 7. */
export function alphabetAt(index: number): readonly string[] {
  const digits = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
  return index === 6 ? [...digits, 'A', 'B'] : digits;
}
