import fc from 'fast-check';
import t from 'tap';
import { checkIns, nirKey } from '../../../src/ins/index.ts';
import { alphabetAt, coherentTraits, corsicanNirArb, nirOf, nirPartsArb, oracleKey, validNirArb } from './generators.ts';

const RUNS = 300;

const hasError = (ins: string): boolean => checkIns({ ins }).issues.some((i) => i.severity === 'error');

t.test('every generated valid number passes, alone and with coherent traits', async (t) => {
  fc.assert(
    fc.property(nirPartsArb, (parts) => {
      const ins = nirOf(parts);
      const alone = checkIns({ ins });
      const withTraits = checkIns({ ins, traits: coherentTraits(parts) });
      return alone.valid && alone.issues.length === 0 && withTraits.valid && withTraits.issues.length === 0;
    }),
    { numRuns: 2000 },
  );
  t.pass();
});

t.test('nirKey agrees with a BigInt computation over the whole number', async (t) => {
  fc.assert(
    fc.property(validNirArb, (ins) => nirKey(ins.slice(0, 13)) === oracleKey(ins.slice(0, 13))),
    { numRuns: 2000 },
  );
  t.pass();
});

t.test('every single-character change anywhere in the 15 characters is caught', async (t) => {
  fc.assert(
    fc.property(validNirArb, (ins) => {
      for (let i = 0; i < ins.length; i++) {
        for (const c of alphabetAt(i)) {
          if (c === ins[i]) continue;
          const changed = ins.slice(0, i) + c + ins.slice(i + 1);
          if (!hasError(changed)) throw new Error(`not caught: ${ins} → ${changed}`);
        }
      }
      return true;
    }),
    { numRuns: RUNS },
  );
  t.pass();
});

t.test('every swap of two adjacent distinct characters is caught', async (t) => {
  fc.assert(
    fc.property(fc.oneof(validNirArb, corsicanNirArb), (ins) => {
      for (let i = 0; i + 1 < ins.length; i++) {
        const a = ins[i] as string;
        const b = ins[i + 1] as string;
        if (a === b) continue;
        const swapped = ins.slice(0, i) + b + a + ins.slice(i + 2);
        if (!hasError(swapped)) throw new Error(`not caught: ${ins} → ${swapped}`);
      }
      return true;
    }),
    { numRuns: RUNS * 3 },
  );
  t.pass();
});

t.test('Corsica', async (t) => {
  t.test('2A/2B numbers pass, and so do their raw 19/18 twins, with the same key', async () => {
    fc.assert(
      fc.property(corsicanNirArb, (ins) => {
        const twin = ins.slice(0, 5) + (ins[6] === 'A' ? '19' : '18') + ins.slice(7);
        return checkIns({ ins }).valid && checkIns({ ins: twin }).valid && twin.slice(13) === ins.slice(13);
      }),
      { numRuns: RUNS },
    );
  });
  t.test('2A and 2B are told apart by the key', async () => {
    fc.assert(
      fc.property(corsicanNirArb, (ins) => {
        const other = ins.slice(0, 6) + (ins[6] === 'A' ? 'B' : 'A') + ins.slice(7);
        return checkIns({ ins: other }).issues.some((i) => i.code === 'INS_KEY_MISMATCH');
      }),
      { numRuns: RUNS },
    );
  });
  t.test('the key of a Corsican number is not the key of its letters read as 20', async () => {
    fc.assert(
      fc.property(corsicanNirArb, (ins) => {
        const as20 = `${ins.slice(0, 5)}20${ins.slice(7, 13)}`;
        return nirKey(ins.slice(0, 13)) !== nirKey(as20);
      }),
      { numRuns: RUNS },
    );
  });
});

t.test('checkIns never throws and valid means no error, whatever the input', async (t) => {
  const anyIns = fc.oneof(
    fc.string({ maxLength: 20 }),
    fc.string({ unit: fc.constantFrom('0', '1', '2', '9', 'A', 'B', ' ', 'a'), minLength: 13, maxLength: 17 }),
  );
  const traits = fc.record(
    {
      sex: fc.constantFrom('male', 'female', 'other', 'unknown'),
      birthDate: fc.string({ maxLength: 12 }),
      birthplaceCode: fc.string({ maxLength: 6 }),
    },
    { requiredKeys: [] },
  );
  fc.assert(
    fc.property(anyIns, fc.option(fc.string({ maxLength: 30 }), { nil: undefined }), traits, (ins, oid, tr) => {
      const r = checkIns({ ins, oid, traits: tr });
      return r.valid === !r.issues.some((i) => i.severity === 'error');
    }),
    { numRuns: 3000 },
  );
  t.pass();
});
