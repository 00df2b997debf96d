// The bytes of an import file as text. A spreadsheet saved as CSV in France is UTF-8 (with or without a
// BOM) or Windows-1252, and nothing in the file says which: a file that is valid UTF-8 is read as UTF-8,
// one that is not is read as Windows-1252 and the caller is warned. Never a replacement character (U+FFFD)
// that was not in the file: a byte that the chosen encoding cannot read refuses the file, naming its line.
// Streaming: memory holds one chunk and at most three bytes of a character cut at its end.
import { isAscii, isUtf8 } from 'node:buffer';
import { open } from 'node:fs/promises';
import { ImportFormatError } from './format-error.ts';

export const ENCODINGS = ['utf-8', 'windows-1252'] as const;
export type Encoding = (typeof ENCODINGS)[number];

/**
 * The bytes Windows-1252 does not define. WHATWG's decoder (TextDecoder) reads them as C1 control
 * characters, which no spreadsheet writes: such a byte means the file is in some other encoding.
 */
export const CP1252_UNDEFINED: readonly number[] = [0x81, 0x8d, 0x8f, 0x90, 0x9d];

const UTF8_BOM = [0xef, 0xbb, 0xbf];

function hex(byte: number): string {
  return `0x${byte.toString(16).toUpperCase().padStart(2, '0')}`;
}

/** 1-based line of the byte at `offset` of `bytes`, the chunk starting on line `firstLine`. */
function lineAt(bytes: Uint8Array, offset: number, firstLine: number): number {
  let line = firstLine;
  for (let i = bytes.indexOf(10); i !== -1 && i < offset; i = bytes.indexOf(10, i + 1)) line++;
  return line;
}

function newlines(bytes: Uint8Array): number {
  let count = 0;
  for (let i = bytes.indexOf(10); i !== -1; i = bytes.indexOf(10, i + 1)) count++;
  return count;
}

/** Length of the leading part of `bytes` that holds whole UTF-8 characters (a character cut at the end stays out). */
function wholeUtf8(bytes: Uint8Array): number {
  const n = bytes.length;
  for (let back = 1; back <= Math.min(3, n); back++) {
    const byte = bytes[n - back] as number;
    if (byte < 0x80) return n; // ASCII: nothing is cut
    if (byte >= 0xc0) {
      const needs = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : 2;
      return needs > back ? n - back : n;
    }
  }
  return n;
}

/** Offset of the first byte that does not start a valid UTF-8 character (RFC 3629: no overlong form, no surrogate). */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const lead = bytes[i] as number;
    if (lead < 0x80) {
      i += 1;
      continue;
    }
    const follow = lead >= 0xc2 && lead <= 0xdf ? 1 : lead >= 0xe0 && lead <= 0xef ? 2 : lead >= 0xf0 && lead <= 0xf4 ? 3 : 0;
    if (follow === 0 || i + follow >= bytes.length) return i;
    const low = lead === 0xe0 ? 0xa0 : lead === 0xf0 ? 0x90 : 0x80;
    const high = lead === 0xed ? 0x9f : lead === 0xf4 ? 0x8f : 0xbf;
    const second = bytes[i + 1] as number;
    if (second < low || second > high) return i;
    for (let k = 2; k <= follow; k++) {
      const next = bytes[i + k] as number;
      if (next < 0x80 || next > 0xbf) return i;
    }
    i += follow + 1;
  }
  return i;
}

const cp1252 = new TextDecoder('windows-1252');

function decodeCp1252(bytes: Uint8Array, firstLine: number): string {
  for (const byte of CP1252_UNDEFINED) {
    const at = bytes.indexOf(byte);
    if (at !== -1) throw undefinedByte(byte, lineAt(bytes, at, firstLine));
  }
  return cp1252.decode(bytes);
}

function undefinedByte(byte: number, line: number): ImportFormatError {
  return new ImportFormatError(
    'encoding-undefined-byte',
    `ligne ${line} : l'octet ${hex(byte)} n'existe pas en Windows-1252 : ce fichier n'est ni de l'UTF-8 ni du Windows-1252 ; enregistrez-le en « CSV UTF-8 »`,
  );
}

function invalidUtf8(byte: number, line: number, why: string): ImportFormatError {
  return new ImportFormatError('encoding-invalid-utf8', `ligne ${line} : l'octet ${hex(byte)} n'est pas de l'UTF-8 valide (${why}) ; enregistrez le fichier en « CSV UTF-8 », ou donnez --encoding windows-1252`);
}

export interface DecodeOptions {
  /** Forces an encoding; by default, UTF-8 when the bytes are, else Windows-1252 with a warning. */
  readonly encoding?: Encoding;
  /** UTF-8 only, whatever the bytes (NDJSON: JSON is UTF-8, RFC 8259). */
  readonly utf8Only?: boolean;
  /** Told once, when the file turns out not to be UTF-8 and is read as Windows-1252. */
  readonly onWarning?: (code: string, message: string) => void;
}

/**
 * The text of a byte stream, chunk by chunk (a UTF-8 BOM is dropped). Throws ImportFormatError for a
 * byte the encoding cannot read, and for a file that turns out not to be UTF-8 after non-ASCII text
 * was already read as UTF-8 (some lines would be read as one encoding, some as the other).
 */
export async function* decodeBytes(chunks: AsyncIterable<Uint8Array | string>, options: DecodeOptions = {}): AsyncGenerator<string> {
  let encoding: Encoding | undefined = options.utf8Only ? 'utf-8' : options.encoding;
  let line = 1;
  let carry: Uint8Array = new Uint8Array(0);
  let first = true;
  let sawNonAscii = false;
  for await (const chunk of chunks) {
    let bytes: Uint8Array = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    if (carry.length > 0) bytes = Buffer.concat([carry, bytes]);
    carry = new Uint8Array(0);
    if (first) {
      if (bytes.length < 3 && bytes.every((byte, i) => byte === UTF8_BOM[i])) {
        carry = bytes.slice(); // too short to tell yet (a copy: the reader may reuse its buffer)
        continue;
      }
      first = false;
      if (bytes[0] === 0xff && bytes[1] === 0xfe) throw new ImportFormatError('encoding-utf16', "le fichier est en UTF-16 (« Texte Unicode ») : enregistrez-le en « CSV UTF-8 »");
      if (bytes[0] === 0xfe && bytes[1] === 0xff) throw new ImportFormatError('encoding-utf16', "le fichier est en UTF-16 (« Texte Unicode ») : enregistrez-le en « CSV UTF-8 »");
      if (UTF8_BOM.every((byte, i) => bytes[i] === byte)) {
        bytes = bytes.subarray(3);
        if (encoding === 'windows-1252') throw new ImportFormatError('encoding-bom-mismatch', 'le fichier commence par la marque UTF-8 (BOM) mais --encoding windows-1252 est demandé');
        encoding = 'utf-8'; // a BOM says so
      }
    }
    if (encoding === 'windows-1252') {
      yield decodeCp1252(bytes, line);
      line += newlines(bytes);
      continue;
    }
    const whole = wholeUtf8(bytes);
    const head = bytes.subarray(0, whole);
    carry = bytes.slice(whole);
    if (isUtf8(head)) {
      if (!sawNonAscii && !isAscii(head)) sawNonAscii = true;
      yield Buffer.from(head.buffer, head.byteOffset, head.byteLength).toString('utf8');
      line += newlines(head);
      continue;
    }
    const at = firstInvalidUtf8(head);
    const badLine = lineAt(head, at, line);
    if (encoding === 'utf-8') throw invalidUtf8(head[at] as number, badLine, options.utf8Only ? 'un fichier NDJSON est en UTF-8' : '--encoding utf-8');
    // Not UTF-8. Windows-1252 reads ASCII as UTF-8 does, so if all before was ASCII nothing read changes.
    if (sawNonAscii || !isAscii(head.subarray(0, at))) {
      throw new ImportFormatError(
        'encoding-mixed',
        `ligne ${badLine} : l'octet ${hex(head[at] as number)} n'est pas de l'UTF-8 alors que des lignes précédentes contiennent de l'UTF-8 accentué ; le fichier mêle deux encodages : enregistrez-le en « CSV UTF-8 »`,
      );
    }
    encoding = 'windows-1252';
    options.onWarning?.('encoding-windows-1252', `le fichier n'est pas de l'UTF-8 valide (ligne ${badLine}, octet ${hex(head[at] as number)}) : il est lu comme du Windows-1252 (--encoding utf-8|windows-1252 pour choisir)`);
    const rest = Buffer.concat([head, carry]);
    carry = new Uint8Array(0);
    yield decodeCp1252(rest, line);
    line += newlines(rest);
  }
  if (carry.length > 0) {
    if (encoding === 'windows-1252') yield decodeCp1252(carry, line);
    else if (encoding === 'utf-8' || sawNonAscii) throw invalidUtf8(carry[0] as number, line, 'le fichier se termine au milieu d’un caractère');
    else {
      options.onWarning?.('encoding-windows-1252', `le fichier n'est pas de l'UTF-8 valide (ligne ${line}, octet ${hex(carry[0] as number)}) : il est lu comme du Windows-1252 (--encoding utf-8|windows-1252 pour choisir)`);
      yield decodeCp1252(carry, line);
    }
  }
}

/**
 * Reads a whole file once before an import: its lines (the total of the progress bar) and its encoding,
 * so that a file refused for its bytes is refused before anything is written, and the import then reads
 * it in that encoding. One buffer read into again and again: a stream would allocate a new chunk per
 * read, and on a 1.4 GB file the allocator keeps some 60 MB of them resident for the rest of the import.
 */
export async function surveyFile(path: string, options: DecodeOptions = {}): Promise<{ lines: number; encoding: Encoding }> {
  const buffer = Buffer.allocUnsafe(1 << 20);
  const file = await open(path, 'r');
  let encoding: Encoding = options.utf8Only ? 'utf-8' : (options.encoding ?? 'utf-8');
  async function* chunks(): AsyncGenerator<Uint8Array> {
    for (;;) {
      const { bytesRead } = await file.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) return;
      yield buffer.subarray(0, bytesRead);
    }
  }
  let lines = 0;
  let last = '\n';
  try {
    const onWarning = (code: string, message: string): void => {
      if (code === 'encoding-windows-1252') encoding = 'windows-1252';
      options.onWarning?.(code, message);
    };
    for await (const text of decodeBytes(chunks(), { ...options, onWarning })) {
      for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) lines++;
      if (text.length > 0) last = text[text.length - 1] as string;
    }
  } finally {
    await file.close();
  }
  return { lines: last === '\n' ? lines : lines + 1, encoding };
}
