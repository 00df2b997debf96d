// `telesante offers import <file>` and `telesante offers generate`: the command-line face of
// src/peuplement. Exit codes of import: 0 every line went in, 1 some lines were rejected (see the rejects
// file), 2 a fatal error (usage, unreadable file, FHIR server that never answers), 130 stopped by Ctrl-C.
import { createReadStream, createWriteStream } from 'node:fs';
import type { WriteStream } from 'node:fs';
import { open, rename, stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { HapiStore } from '../fhir/index.ts';
import { createValidator } from '../fhir/validation/index.ts';
import {
  checkpointPathOf,
  csvHeader,
  DEFAULT_BATCH_SIZE,
  DEFAULT_CONCURRENCY,
  formatOfPath,
  IMPORT_FORMATS,
  importOffers,
  ImportFormatError,
  Progress,
  readCheckpoint,
  recordsOf,
  rowOfOffer,
  writeCheckpoint,
} from '../peuplement/index.ts';
import type { Checkpoint, ImportCounts, ImportFormat, ImportReject } from '../peuplement/index.ts';
import { generateOffers } from '../synthetic/index.ts';


export const OFFERS_USAGE = `  telesante offers import <file|-> [--format csv|ndjson] [--fhir-base-url URL] [--batch-size N] [--concurrency K]
                          [--dry-run] [--resume] [--rejects FILE] [--quiet]
  telesante offers generate --count N [--seed S] [--prefix P] [--format ndjson|csv] [--output FILE]`;

type Usage = (message?: string) => number;

function positiveInteger(value: string | undefined, name: string, fallback: number): number | string {
  if (value === undefined) return fallback;
  if (!/^[1-9][0-9]*$/.test(value)) return `${name} must be a positive integer`;
  return Number(value);
}

/**
 * Lines in a file, counted fast (bytes, not text): the total of the progress bar. One buffer read into
 * again and again: a stream would allocate a new 64 kB buffer per chunk, and on a 1.4 GB file the
 * allocator keeps some 60 MB of them resident for the rest of the import.
 */
async function countLines(path: string): Promise<number> {
  const buffer = Buffer.allocUnsafe(1 << 20);
  const file = await open(path, 'r');
  let count = 0;
  let last = 10;
  try {
    for (;;) {
      const { bytesRead } = await file.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      const chunk = buffer.subarray(0, bytesRead);
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) count++;
      last = chunk[bytesRead - 1] ?? 10;
    }
  } finally {
    await file.close();
  }
  return last === 10 ? count : count + 1;
}

/**
 * Keeps the rejects of lines up to the watermark: those after it are replayed, and would come twice. A
 * record that does not parse was cut short by a kill (SIGKILL, a crash): it is of a line after the
 * watermark, since the rejects up to it are on disk before the checkpoint names it, so it goes too.
 */
async function trimRejects(path: string, watermark: number): Promise<void> {
  try {
    await stat(path);
  } catch {
    return;
  }
  const temporary = `${path}.tmp`;
  const out = createWriteStream(temporary);
  for await (const text of createInterface({ input: createReadStream(path), crlfDelay: Infinity })) {
    if (text.trim() === '') continue;
    let line: number | undefined;
    try {
      line = (JSON.parse(text) as { line?: number }).line;
    } catch {
      continue;
    }
    if (line !== undefined && line <= watermark && !out.write(`${text}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  await rename(temporary, path);
}

async function writeLine(stream: Writable, text: string): Promise<void> {
  if (!stream.write(text)) await once(stream, 'drain');
}

export async function offersImport(args: string[], usage: Usage): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        format: { type: 'string' },
        'fhir-base-url': { type: 'string' },
        'batch-size': { type: 'string' },
        concurrency: { type: 'string' },
        'dry-run': { type: 'boolean', default: false },
        resume: { type: 'boolean', default: false },
        rejects: { type: 'string' },
        quiet: { type: 'boolean', default: false },
      },
    });
  } catch (error) {
    return usage((error as Error).message);
  }
  const { values, positionals } = parsed;
  const file = positionals[0];
  if (positionals.length !== 1 || file === undefined) return usage('offers import takes exactly one file (- for standard input)');
  const stdin = file === '-';
  const format = values.format ?? (stdin ? 'ndjson' : formatOfPath(file));
  if (!(IMPORT_FORMATS as readonly string[]).includes(format)) return usage('--format is csv or ndjson');
  const batchSize = positiveInteger(values['batch-size'], '--batch-size', DEFAULT_BATCH_SIZE);
  const concurrency = positiveInteger(values.concurrency, '--concurrency', DEFAULT_CONCURRENCY);
  if (typeof batchSize === 'string') return usage(batchSize);
  if (typeof concurrency === 'string') return usage(concurrency);
  if (batchSize > 500) return usage('--batch-size is at most 500');
  const dryRun = values['dry-run'];
  const baseUrl = (values['fhir-base-url'] ?? process.env.FHIR_BASE_URL)?.replace(/\/+$/, '');
  if (!dryRun && (baseUrl === undefined || baseUrl === '')) return usage('give --fhir-base-url URL or set FHIR_BASE_URL (or --dry-run)');
  if (stdin && values.resume) return usage('--resume needs a file: standard input cannot be read again');
  if (!stdin) {
    try {
      await stat(file);
    } catch (error) {
      return usage(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  }

  const rejectsPath = values.rejects ?? (stdin ? 'stdin.rejects.ndjson' : `${file}.rejects.ndjson`);
  const checkpointPath = stdin ? undefined : checkpointPathOf(file);
  let resumeFrom: Checkpoint | undefined;
  if (values.resume && checkpointPath !== undefined) {
    resumeFrom = await readCheckpoint(checkpointPath);
    if (resumeFrom === undefined) console.error(`telesante: no checkpoint ${checkpointPath}: starting from the first line`);
    else if (resumeFrom.complete) {
      console.error(`telesante: ${file} was imported completely already (${checkpointPath})`);
      return resumeFrom.counts.rejected > 0 ? 1 : 0;
    } else {
      console.error(`telesante: resuming after line ${resumeFrom.line} (${resumeFrom.counts.imported} imported, ${resumeFrom.counts.rejected} rejected before)`);
      await trimRejects(rejectsPath, resumeFrom.line);
    }
  }

  const tty = process.stderr.isTTY === true;
  const total = stdin ? undefined : await countLines(file);
  const dataLines = total === undefined ? undefined : format === 'csv' ? Math.max(0, total - 1) : total;
  const progress = values.quiet ? undefined : new Progress({ tty, write: (text) => process.stderr.write(text), ...(dataLines === undefined ? {} : { total: dataLines }), startedAt: (resumeFrom?.counts.imported ?? 0) + (resumeFrom?.counts.rejected ?? 0) });

  const validator = await createValidator();
  const store = dryRun || baseUrl === undefined ? undefined : new HapiStore({ baseUrl, timeoutMs: 120_000, retries: 2 });
  if (store !== undefined) {
    const ready = await store.ready();
    if (!ready.ok) {
      console.error(`telesante: ${ready.reason}`);
      return 2;
    }
  }

  const rejects: WriteStream = createWriteStream(rejectsPath, { flags: resumeFrom === undefined ? 'w' : 'a' });
  let rejected = 0;
  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) {
      console.error('\ntelesante: stopped at once; the checkpoint is where it was');
      process.exit(130);
    }
    console.error('\ntelesante: stopping: the batches in flight finish, then the checkpoint is written (Ctrl-C again to quit at once)');
    controller.abort();
  };
  process.on('SIGINT', onSigint);

  // Checkpoint writes are chained (never two at once) and at most one a second; the last is always written.
  let checkpointChain: Promise<void> = Promise.resolve();
  let lastWrite = 0;
  const saveCheckpoint = (line: number, counts: ImportCounts, complete: boolean, force = false): Promise<void> => {
    if (checkpointPath === undefined || dryRun) return Promise.resolve();
    const now = Date.now();
    if (!force && now - lastWrite < 1000) return Promise.resolve();
    lastWrite = now;
    const checkpoint: Checkpoint = { input: file, format, line, counts, complete, updatedAt: new Date(now).toISOString() };
    checkpointChain = checkpointChain.then(() => writeCheckpoint(checkpointPath, checkpoint));
    return checkpointChain;
  };

  const started = performance.now();
  const input: Readable = stdin ? process.stdin : createReadStream(file);
  let result;
  try {
    result = await importOffers(recordsOf(input, format as ImportFormat), {
      validator,
      batchSize,
      concurrency,
      dryRun,
      ...(store === undefined ? {} : { store }),
      signal: controller.signal,
      ...(resumeFrom === undefined ? {} : { resumeFrom: { line: resumeFrom.line, counts: resumeFrom.counts } }),
      requestId: `import-${Date.now().toString(36)}`,
      onReject: async (reject: ImportReject) => {
        rejected++;
        await writeLine(rejects, `${JSON.stringify(reject)}\n`);
      },
      // The rejects of the lines up to the watermark must be on disk before the checkpoint says so.
      onWatermark: async (line, counts) => {
        if (Date.now() - lastWrite < 1000) return;
        await new Promise<void>((resolve, reject) => rejects.write('', (error) => (error ? reject(error) : resolve())));
        await saveCheckpoint(line, counts, false);
      },
      onProgress: (counts) => progress?.update(counts),
    });
  } finally {
    process.off('SIGINT', onSigint);
    rejects.end();
    await once(rejects, 'close').catch(() => undefined);
  }
  progress?.end();
  await saveCheckpoint(result.watermark, result.watermarkCounts, result.status === 'done', true);

  const seconds = (performance.now() - started) / 1000;
  const { counts } = result;
  const thisRun = counts.imported - (resumeFrom?.counts.imported ?? 0);
  console.error(
    `telesante: ${result.status === 'done' ? 'import done' : result.status === 'stopped' ? 'import stopped' : 'import FAILED'}` +
      `${dryRun ? ' (dry run: nothing written)' : ''}: ${counts.read} lines read, ${counts.imported} ${dryRun ? 'valid' : 'imported'}, ${counts.rejected} rejected` +
      ` in ${seconds.toFixed(1)} s (${(thisRun / seconds).toFixed(1)} offers/s)`,
  );
  if (counts.rejected > 0 || rejected > 0) console.error(`telesante: rejected lines, each with its OperationOutcome: ${rejectsPath}`);
  if (result.status !== 'done' && checkpointPath !== undefined && !dryRun) {
    console.error(`telesante: every line up to ${result.watermark} is done; go on with: telesante offers import ${file} --resume`);
  }
  if (result.status === 'failed') {
    const error = result.error;
    console.error(`telesante: ${error instanceof ImportFormatError ? error.message : `fatal: ${error?.message ?? 'unknown error'}`}`);
    return 2;
  }
  if (result.status === 'stopped') return 130;
  return counts.rejected > 0 ? 1 : 0;
}

export async function offersGenerate(args: string[], usage: Usage): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: { count: { type: 'string' }, seed: { type: 'string' }, prefix: { type: 'string' }, format: { type: 'string' }, output: { type: 'string' } },
    });
  } catch (error) {
    return usage((error as Error).message);
  }
  const { values } = parsed;
  if (values.count === undefined) return usage('offers generate needs --count N');
  const count = positiveInteger(values.count, '--count', 0);
  if (typeof count === 'string') return usage(count);
  if (values.seed !== undefined && !/^[0-9]{1,9}$/.test(values.seed)) return usage('--seed is an integer from 0 to 999999999');
  const seed = Number(values.seed ?? 1);
  const format = values.format ?? (values.output !== undefined ? formatOfPath(values.output) : 'ndjson');
  if (!(IMPORT_FORMATS as readonly string[]).includes(format)) return usage('--format is csv or ndjson');
  if (values.prefix !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._-]{0,40}$/.test(values.prefix)) return usage('--prefix: letters, digits, . _ -, 41 at most');
  const out: Writable = values.output === undefined ? process.stdout : createWriteStream(values.output);
  // Generated offers have one site, up to three professionals, two hours entries and two contacts.
  const header = csvHeader({ site: 1, pro: 3, hours: 2, contact: 2 });
  if (format === 'csv') await writeLine(out, `${header.join(',')}\n`);
  for (const offer of generateOffers(count, { seed, ...(values.prefix === undefined ? {} : { prefix: values.prefix }) })) {
    await writeLine(out, `${format === 'csv' ? rowOfOffer(offer, header) : JSON.stringify(offer)}\n`);
  }
  if (out !== process.stdout) {
    out.end();
    await once(out, 'finish');
  }
  return 0;
}
