// `telesante acts generate --count N [--seed S] [--year YYYY]`: synthetic acts as NDJSON, one act per
// line, each valid for POST /v1/acts (src/synthetic/acts.ts), for tests, benchmarks and demonstrations.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { generateActs } from '../synthetic/index.ts';

export const ACTS_USAGE = '  telesante acts generate --count N [--seed S] [--year YYYY] [--prefix P] [--output FILE]';

type Usage = (message?: string) => number;

function integer(value: string | undefined, fallback: number, min: number, max: number): number | undefined {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value)) return undefined;
  const n = Number(value);
  return n >= min && n <= max ? n : undefined;
}

export async function actsGenerate(args: string[], usage: Usage): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args, options: { count: { type: 'string' }, seed: { type: 'string' }, year: { type: 'string' }, prefix: { type: 'string' }, output: { type: 'string' } } }));
  } catch (error) {
    return usage((error as Error).message);
  }
  const count = integer(values.count, -1, 1, 10_000_000);
  const seed = integer(values.seed, 1, 0, 2 ** 32 - 1);
  const year = integer(values.year, 2025, 1900, 2100);
  if (values.count === undefined || count === undefined || count < 1) return usage('acts generate needs --count N (1 to 10 000 000)');
  if (seed === undefined) return usage('--seed is an integer from 0 to 4294967295');
  if (year === undefined) return usage('--year is a year from 1900 to 2100');
  const out: Writable = values.output === undefined ? process.stdout : createWriteStream(values.output);
  for (const act of generateActs({ count, seed, year, ...(values.prefix === undefined ? {} : { idPrefix: values.prefix }) })) {
    if (!out.write(`${JSON.stringify(act)}\n`)) await once(out, 'drain');
  }
  if (out !== process.stdout) {
    out.end();
    await once(out, 'finish');
  }
  return 0;
}
