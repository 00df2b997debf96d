// The request id a client sends (X-Request-ID) goes into every log line and every AuditEvent: it is kept
// only when it cannot carry an INS. An INS is 15 characters, 13 of them digits in a row for a NIR; a kept
// id is a canonical UUID (its longest run of digits is 12) or a short token of letters, digits and . _ : -
// holding at most 12 digits in all, however they are spread. Anything else is replaced by a new UUID.
import { randomUUID } from 'node:crypto';

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const TOKEN = /^[A-Za-z0-9._:-]{1,64}$/;
const MAX_DIGITS = 12;

function digitsIn(value: string): number {
  let count = 0;
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code >= 0x30 && code <= 0x39) count++;
  }
  return count;
}

/** True when a client's request id may be kept as it is. */
export function isSafeRequestId(value: string): boolean {
  return UUID.test(value) || (TOKEN.test(value) && digitsIn(value) <= MAX_DIGITS);
}

/** The client's X-Request-ID when it is safe, else a new UUID. */
export function requestIdOf(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value !== undefined && isSafeRequestId(value) ? value : randomUUID();
}
