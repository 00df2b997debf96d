// The lines of an import file, read as a stream: memory holds one line (one CSV record) at a time, never
// the file. Each record carries the number of its (first) line in the file, the number a person looks
// for in their editor, and either the offer body it holds or why it could not be read.
import type { Readable } from 'node:stream';
import { cellsOf, columnOfField, headerOf, offerOfRow } from './csv.ts';
import { decodeBytes } from './encoding.ts';
import type { Encoding } from './encoding.ts';
import { ImportFormatError } from './format-error.ts';
import { fhirRecords } from './fhir-source.ts';

export { ImportFormatError };

export const IMPORT_FORMATS = ['ndjson', 'csv', 'fhir'] as const;
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

/** `.csv` → csv, anything else ndjson. */
export function formatOfPath(path: string): ImportFormat {
  return /\.csv$/i.test(path) ? 'csv' : 'ndjson';
}

export interface ReadOptions {
  /** CSV: forces the encoding of the bytes (by default UTF-8 when they are, else Windows-1252). NDJSON is UTF-8. */
  readonly encoding?: Encoding;
  /** Told when the file is read otherwise than asked or expected (a CSV that is not UTF-8). */
  readonly onWarning?: (code: string, message: string) => void;
}

/** Lines of text chunks, ended by CRLF, LF or a lone CR (CSV saved by a Mac spreadsheet). */
async function* linesOfText(chunks: AsyncIterable<string>): AsyncGenerator<string> {
  let buffer = '';
  const end = /\r\n|\n|\r/g;
  for await (const chunk of chunks) {
    buffer += chunk;
    let start = 0;
    end.lastIndex = 0;
    for (let match = end.exec(buffer); match !== null; match = end.exec(buffer)) {
      // A CR that ends the chunk may be the first half of a CRLF: wait for the next chunk.
      if (match[0] === '\r' && match.index === buffer.length - 1) break;
      yield buffer.slice(start, match.index);
      start = end.lastIndex;
    }
    buffer = buffer.slice(start);
  }
  if (buffer.endsWith('\r')) buffer = buffer.slice(0, -1);
  if (buffer !== '') yield buffer;
}

/** Numbered lines of a byte stream (decoded), or of lines already read (an HTTP body). */
async function* linesOf(input: Readable | AsyncIterable<string>, format: ImportFormat, options: ReadOptions): AsyncGenerator<{ line: number; text: string }> {
  const lines = 'pipe' in input ? linesOfText(decodeBytes(input as AsyncIterable<Uint8Array>, format === 'ndjson' ? { utf8Only: true } : options)) : input;
  let line = 0;
  for await (const text of lines) {
    line += 1;
    yield { line, text };
  }
}

/** NDJSON: one offer JSON per line; blank lines are skipped. */
async function* ndjsonRecords(input: Readable | AsyncIterable<string>): AsyncGenerator<ImportRecord> {
  for await (const { line, text } of linesOf(input, 'ndjson', {})) {
    if (text.trim() === '') continue;
    try {
      yield { line, text, body: JSON.parse(text) as unknown };
    } catch (error) {
      yield { line, text, unreadable: `pas un document JSON : ${(error as Error).message}` };
    }
  }
}

/** Longest CSV record, in lines, before a quote left open is called a mistake rather than a multi-line cell. */
const MAX_RECORD_LINES = 50;

async function* csvRecords(input: Readable | AsyncIterable<string>, options: ReadOptions): AsyncGenerator<ImportRecord> {
  let header: ReturnType<typeof headerOf> | undefined;
  let pending: { line: number; text: string; lines: number } | undefined;
  for await (const { line, text } of linesOf(input, 'csv', options)) {
    if (header === undefined) {
      header = headerOf(text);
      if (!header.ok) throw new ImportFormatError(header.code, `ligne 1 : ${header.message}`);
      continue;
    }
    const record = pending === undefined ? { line, text, lines: 1 } : { line: pending.line, text: `${pending.text}\n${text}`, lines: pending.lines + 1 };
    pending = undefined;
    if (record.text.trim() === '') continue;
    if (!header.ok) continue;
    const cells = cellsOf(record.text, header.separator);
    if (cells === undefined) {
      if (record.lines < MAX_RECORD_LINES) {
        pending = record;
        continue;
      }
      yield { line: record.line, text: record.text, unreadable: `un guillemet ouvert sur cette ligne n'est pas refermé dans les ${MAX_RECORD_LINES} lignes suivantes` };
      continue;
    }
    if (cells.length > header.columns.length) {
      const separator = header.separator === '\t' ? 'une tabulation' : `un « ${header.separator} »`;
      yield { line: record.line, text: record.text, unreadable: `${cells.length} cellules pour ${header.columns.length} colonnes : mettez entre guillemets les cellules qui contiennent ${separator}` };
      continue;
    }
    yield { line: record.line, text: record.text, body: offerOfRow(header.columns, cells), columnOf: columnOfField };
  }
  if (pending !== undefined) yield { line: pending.line, text: pending.text, unreadable: 'le fichier se termine dans une cellule entre guillemets' };
  if (header === undefined) throw new ImportFormatError('csv-empty', "le fichier CSV est vide : la ligne 1 doit être l'en-tête");
}

/** The records of an import file, in file order. */
export function recordsOf(input: Readable | AsyncIterable<string>, format: ImportFormat, options: ReadOptions = {}): AsyncGenerator<ImportRecord> {
  if (format === 'fhir') return fhirRecords(linesOf(input, 'ndjson', {}), options);
  return format === 'csv' ? csvRecords(input, options) : ndjsonRecords(input);
}
