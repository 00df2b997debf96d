/**
 * The whole file cannot be read as its format says (a CSV header with unknown columns, a byte its
 * encoding does not define…): the import stops. `code` is stable, for scripts; the message is French.
 */
export class ImportFormatError extends Error {
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.name = 'ImportFormatError';
    this.code = code;
  }
}
