// JSON bodies are checked for depth before anything walks them. JSON.parse and Fastify's prototype check
// are loops, but what comes after (the strict validator, Ajv, the FHIR validator, the mappings) walks a
// value by recursion, and a body nested thousands of levels deep would overflow the stack (a 500). This
// scan is one pass over the text with a counter, no recursion, no regular expression.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { InvalidInput } from '../problems.ts';

/** The deepest nesting of objects and arrays a body may have; real acts, offers and Bundles stay far below. */
export const MAX_JSON_DEPTH = 64;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const NEWLINE = 0x0a;
const OPENERS = new Set([0x5b, 0x7b]); // [ {
const CLOSERS = new Set([0x5d, 0x7d]); // ] }

/**
 * The deepest nesting of `text` (JSON, or NDJSON with `perLine`: each line counts from zero), stopping as
 * soon as it passes `limit`. Brackets inside strings do not count.
 */
export function jsonDepth(text: string, limit: number, perLine = false): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (inString) {
      if (code === BACKSLASH) i++;
      else if (code === QUOTE) inString = false;
    } else if (code === QUOTE) {
      inString = true;
    } else if (OPENERS.has(code)) {
      depth++;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > limit) return deepest;
      }
    } else if (CLOSERS.has(code)) {
      depth--;
    } else if (perLine && code === NEWLINE) {
      depth = 0;
    }
    // A raw line break inside a string is invalid JSON: JSON.parse refuses it; a new line starts afresh.
    if (perLine && inString && code === NEWLINE) inString = false;
  }
  return deepest;
}

/** Throws the 400 a body nested deeper than MAX_JSON_DEPTH gets. */
export function assertJsonDepth(text: string, perLine = false): void {
  if (jsonDepth(text, MAX_JSON_DEPTH, perLine) <= MAX_JSON_DEPTH) return;
  throw new InvalidInput({
    code: 'too-costly',
    expression: '(body)',
    message: `Corps JSON trop imbriqué : au plus ${MAX_JSON_DEPTH} niveaux d'objets et de tableaux.`,
    diagnostics: `JSON nesting deeper than ${MAX_JSON_DEPTH}`,
  });
}

/**
 * Parses JSON bodies of these content types (application/json is Fastify's own, replaced) with the depth
 * check first, then Fastify's parser (which refuses `__proto__` and `constructor.prototype`).
 */
export function registerJsonParsers(app: FastifyInstance, contentTypes: readonly string[]): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  const guarded = (request: FastifyRequest, body: string, done: (error: Error | null, value?: unknown) => void): void => {
    try {
      assertJsonDepth(body);
    } catch (error) {
      done(error as Error);
      return;
    }
    parse(request, body, done);
  };
  app.removeContentTypeParser('application/json');
  for (const type of ['application/json', ...contentTypes]) app.addContentTypeParser(type, { parseAs: 'string' }, guarded);
}
