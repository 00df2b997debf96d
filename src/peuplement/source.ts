// The lines of an import file, read as a stream: memory holds one line (one CSV record) at a time, never
// the file. Each record carries the number of its (first) line in the file, the number a person looks
// for in their editor, and either the offer body it holds or why it could not be read.
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { cellsOf, columnOfField, headerOf, offerOfRow } from './csv.ts';

export const IMPORT_FORMATS = ['ndjson', 'csv'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

export interface ImportRecord {
  /** 1-based line number in the file (for CSV the header is line 1). */
  readonly line: number;
  /** The text of the record as it was in the file. */
  readonly text: string;
  /** The offer body, when the line could be read. */
  readonly body?: unknown;
  /** Why the line could not be read (not JSON, unclosed quote…). */
  readonly unreadable?: string;
  /** The column of the file that holds a field of the offer (`structure.finess` → `structure_finess`), for CSV. */
  readonly columnOf?: (field: string) => string | undefined;
}

/** The whole file cannot be read as the format says (a CSV header with unknown columns…). */
export class ImportFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImportFormatError';
  }
}

/** `.csv` → csv, anything else ndjson. */
export function formatOfPath(path: string): ImportFormat {
  return /\.csv$/i.test(path) ? 'csv' : 'ndjson';
}

async function* linesOf(input: Readable | AsyncIterable<string>): AsyncGenerator<{ line: number; text: string }> {
  const lines = Symbol.asyncIterator in input && !('pipe' in input) ? input : createInterface({ input: input as Readable, crlfDelay: Infinity });
  let line = 0;
  for await (const text of lines as AsyncIterable<string>) {
    line += 1;
    yield { line, text };
  }
}

/** NDJSON: one offer JSON per line; blank lines are skipped. */
async function* ndjsonRecords(input: Readable | AsyncIterable<string>): AsyncGenerator<ImportRecord> {
  for await (const { line, text } of linesOf(input)) {
    if (text.trim() === '') continue;
    try {
      yield { line, text, body: JSON.parse(text) as unknown };
    } catch (error) {
      yield { line, text, unreadable: `not a JSON document: ${(error as Error).message}` };
    }
  }
}

/** Longest CSV record, in lines, before a quote left open is called a mistake rather than a multi-line cell. */
const MAX_RECORD_LINES = 50;

async function* csvRecords(input: Readable | AsyncIterable<string>): AsyncGenerator<ImportRecord> {
  let header: ReturnType<typeof headerOf> | undefined;
  let pending: { line: number; text: string; lines: number } | undefined;
  for await (const { line, text } of linesOf(input)) {
    if (header === undefined) {
      header = headerOf(text);
      if (!header.ok) throw new ImportFormatError(`line 1: ${header.message}`);
      continue;
    }
    const record = pending === undefined ? { line, text, lines: 1 } : { line: pending.line, text: `${pending.text}\n${text}`, lines: pending.lines + 1 };
    pending = undefined;
    if (record.text.trim() === '') continue;
    const cells = cellsOf(record.text);
    if (cells === undefined) {
      if (record.lines < MAX_RECORD_LINES) {
        pending = record;
        continue;
      }
      yield { line: record.line, text: record.text, unreadable: `a quote opened on this line is not closed within ${MAX_RECORD_LINES} lines` };
      continue;
    }
    if (!header.ok) continue;
    if (cells.length > header.columns.length) {
      yield { line: record.line, text: record.text, unreadable: `${cells.length} cells for ${header.columns.length} columns: quote the cells that hold a comma` };
      continue;
    }
    yield { line: record.line, text: record.text, body: offerOfRow(header.columns, cells), columnOf: columnOfField };
  }
  if (pending !== undefined) yield { line: pending.line, text: pending.text, unreadable: 'the file ends inside a quoted cell' };
  if (header === undefined) throw new ImportFormatError('the CSV file is empty: line 1 must be the header');
}

/** The records of an import file, in file order. */
export function recordsOf(input: Readable | AsyncIterable<string>, format: ImportFormat): AsyncGenerator<ImportRecord> {
  return format === 'csv' ? csvRecords(input) : ndjsonRecords(input);
}
