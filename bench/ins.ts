// INS check throughput on one core, against a naive baseline measured in the same run.
//   sh scripts/node.sh bench/ins.ts [seconds per measure, default 2]
// Baseline: what one writes first — a regex for the shape, then BigInt over the 13 digits for the key.
import { checkIns, type InsTraits } from '../src/ins/index.ts';

const SECONDS = Number(process.argv[2] ?? 2);
const SIZE = 4096; // a power of two: the index is a mask, not a modulo

// Deterministic pseudo-random numbers (xorshift32) so that runs compare.
let seed = 0x2545f491;
function random(n: number): number {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) % n;
}
const pad = (n: number, w: number): string => String(n).padStart(w, '0');

function keyOf(body: string): string {
  const digits = body.replace('2A', '19').replace('2B', '18');
  return pad(Number(97n - (BigInt(digits) % 97n)), 2);
}

function validBody(): string {
  const month = [pad(1 + random(12), 2), pad(20 + random(11), 2), pad(50 + random(50), 2)][random(3)] as string;
  const places = [
    () => pad(1 + random(95), 2) + pad(1 + random(999), 3),
    () => ['2A', '2B'][random(2)] + pad(1 + random(999), 3),
    () => String(971 + random(6)) + pad(1 + random(99), 2),
    () => `99${pad(100 + random(400), 3)}`,
  ];
  const place = (places[random(places.length)] as () => string)();
  return `${1 + random(2)}${pad(random(100), 2)}${month}${place}${pad(1 + random(999), 3)}`;
}

// Half valid; the other half spread over the mistakes people make: a wrong digit, two digits swapped,
// a wrong key, a missing digit, spaces, a letter O for a zero.
function invalid(valid: string): string {
  const i = random(15);
  switch (random(6)) {
    case 0: {
      const c = valid[i] === '9' ? '0' : valid[i] === 'A' || valid[i] === 'B' ? valid[i] : String(Number(valid[i]) + 1);
      return valid.slice(0, i) + c + valid.slice(i + 1);
    }
    case 1: {
      const j = Math.min(i, 13);
      return valid.slice(0, j) + valid[j + 1] + valid[j] + valid.slice(j + 2);
    }
    case 2:
      return valid.slice(0, 13) + (valid.endsWith('01') ? '02' : '01');
    case 3:
      return valid.slice(0, 14);
    case 4:
      return `${valid.slice(0, 1)} ${valid.slice(1, 3)} ${valid.slice(3)}`;
    default:
      return `${valid.slice(0, 10)}O${valid.slice(11)}`;
  }
}

// Numbers arrive parsed from a JSON body, as flat strings; concatenations in this file would be rope
// strings, slower to index, which would measure the generator rather than the check.
function asFromJson(values: string[]): string[] {
  return JSON.parse(JSON.stringify(values)) as string[];
}

const SHAPE = /^[12]\d{2}(?:0[1-9]|1[0-2]|2\d|30|[5-9]\d)(?:\d{2}|2[AB])\d{6}\d{2}$/;
function baselineValid(ins: string): boolean {
  if (!SHAPE.test(ins)) return false;
  const body = ins.slice(0, 13).replace('2A', '19').replace('2B', '18');
  return 97n - (BigInt(body) % 97n) === BigInt(ins.slice(13));
}

const generated: string[] = [];
const traits: InsTraits[] = [];
for (let k = 0; k < SIZE; k++) {
  const body = validBody();
  const valid = body + keyOf(body);
  let wrong = invalid(valid);
  // A swap of two equal digits changes nothing: draw again so that the invalid half really is.
  while (baselineValid(wrong)) wrong = invalid(valid);
  generated.push(k % 2 === 0 ? valid : wrong);
  traits.push({
    sex: valid[0] === '1' ? 'male' : 'female',
    birthDate: `19${valid.slice(1, 3)}-${Number(valid.slice(3, 5)) <= 12 ? valid.slice(3, 5) : '06'}-15`,
    birthplaceCode: valid.slice(5, 10),
  });
}
const numbers = asFromJson(generated);

function measure(name: string, check: (i: number) => boolean): number {
  // `sink` counts the valid answers and is printed, so that no call can be optimised away.
  let sink = 0;
  // Warm-up, so that the optimising compiler has run before the clock starts.
  for (let i = 0; i < 200_000; i++) if (check(i & (SIZE - 1))) sink++;
  let calls = 0;
  const start = process.hrtime.bigint();
  const budget = BigInt(Math.round(SECONDS * 1e9));
  let elapsed = 0n;
  while (elapsed < budget) {
    for (let i = 0; i < 65_536; i++) if (check(i & (SIZE - 1))) sink++;
    calls += 65_536;
    elapsed = process.hrtime.bigint() - start;
  }
  const perSecond = calls / (Number(elapsed) / 1e9);
  const rate = Math.round(perSecond).toLocaleString('en-US').padStart(12);
  console.log(`${name.padEnd(34)} ${rate} checks/s  (${calls.toLocaleString('en-US')} calls, ${sink.toLocaleString('en-US')} valid)`);
  return perSecond;
}

const validShare = numbers.filter((n) => checkIns({ ins: n }).valid).length / SIZE;
const agree = numbers.every((n) => checkIns({ ins: n }).valid === baselineValid(n));
console.log(`INS check bench: ${SIZE} numbers, ${(validShare * 100).toFixed(1)} % valid, baseline agrees on all: ${agree}`);
console.log(`node ${process.version}, ${SECONDS} s per measure, one core\n`);

const baseline = measure('baseline: regex + BigInt key', (i) => baselineValid(numbers[i] as string));
const ours = measure('checkIns(number)', (i) => checkIns({ ins: numbers[i] as string }).valid);
const oursTraits = measure('checkIns(number, OID, traits)', (i) =>
  checkIns({ ins: numbers[i] as string, oid: 'urn:oid:1.2.250.1.213.1.4.8', traits: traits[i] }).valid,
);

console.log(`\ncheckIns / baseline:                 ${(ours / baseline).toFixed(2)}×`);
console.log(`checkIns with traits / baseline:     ${(oursTraits / baseline).toFixed(2)}×`);
console.log(`target 1,000,000 checks/s:           ${ours >= 1e6 ? 'met' : 'NOT met'}`);
