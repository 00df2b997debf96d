// What each write route takes as a body. A route says it in `config.accepts` (JSON when it says nothing);
// a body of any other type is refused with 415 before it is read, whatever parsers Fastify has (its
// text/plain parser would otherwise hand a string to the JSON Schema, which answered 400 "must be object").
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { UnsupportedMediaType } from '../problems.ts';
import { FHIR_JSON } from './errors.ts';

export const JSON_TYPE = 'application/json';

/** What a route takes when its `config.accepts` says nothing: JSON, which FHIR clients label application/fhir+json. */
export const DEFAULT_ACCEPTS: readonly string[] = [JSON_TYPE, FHIR_JSON];

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The media types of the body this route takes (lower case, no parameters); default DEFAULT_ACCEPTS. */
    accepts?: readonly string[];
  }
}

const WITH_BODY = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** The media type of a Content-Type header, without its parameters (`; charset=utf-8`), in lower case. */
export function mediaTypeOf(header: string | undefined): string | undefined {
  const type = header?.split(';')[0]?.trim().toLowerCase();
  return type === '' ? undefined : type;
}

function hasBody(request: FastifyRequest): boolean {
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** Refuses, on every route, a body whose type the route does not take; writes the accepted types into the OpenAPI document. */
export function registerMediaTypes(app: FastifyInstance): void {
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (!methods.some((method) => WITH_BODY.has(method)) || route.schema === undefined) return;
    const accepts = (route.config as { accepts?: readonly string[] } | undefined)?.accepts ?? DEFAULT_ACCEPTS;
    route.schema.consumes ??= [...accepts];
  });
  app.addHook('preParsing', async (request) => {
    if (!WITH_BODY.has(request.method) || !hasBody(request)) return;
    const accepts = request.routeOptions.config.accepts ?? DEFAULT_ACCEPTS;
    const type = mediaTypeOf(request.headers['content-type']);
    if (type !== undefined && accepts.includes(type)) return;
    throw new UnsupportedMediaType({
      code: 'not-supported',
      expression: 'header.content-type',
      message: `Type de contenu non pris en charge (${type ?? 'absent'}) : envoyez ${accepts.join(' ou ')}.`,
      diagnostics: `content-type ${request.headers['content-type'] ?? '(none)'}; accepted: ${accepts.join(', ')}`,
    });
  });
}
