// A small HTTP server that stands in for HAPI: it answers the FHIR REST calls HapiStore makes
// (transaction, search by POST, read, history, metadata) from an embedded store, and keeps the headers of
// every request it received, so that a test sees what went over the wire.
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Bundle, ResourceType } from '@medplum/fhirtypes';
import { EmbeddedStore, FhirStoreError } from '../../src/fhir/index.ts';

export interface StandIn {
  /** The base URL to give HapiStore (…/fhir). */
  readonly baseUrl: string;
  readonly store: EmbeddedStore;
  /** Every request received, in order: method, path under the base (`/` for a transaction), headers. */
  readonly received: { method: string; path: string; headers: IncomingHttpHeaders }[];
  close(): Promise<void>;
}

async function bodyOf(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** What the store behind the stand-in throws to have it answer exactly this (an OperationOutcome as HAPI writes it). */
export class ServerAnswer extends Error {
  readonly status: number;
  readonly body: unknown;

  constructor(status: number, body: unknown) {
    super(`HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

/** The status HAPI answers for what the embedded store throws without one. */
const STATUS_OF_KIND: Partial<Record<FhirStoreError['kind'], number>> = { invalid: 422, 'not-found': 404, conflict: 409, 'precondition-failed': 412 };

function send(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/fhir+json' });
  response.end(JSON.stringify(body));
}

async function answer(store: EmbeddedStore, method: string, path: string, body: string): Promise<unknown> {
  const parts = path.split('/').filter((part) => part !== '');
  if (method === 'GET' && parts[0] === 'metadata') return { resourceType: 'CapabilityStatement', status: 'active', kind: 'instance', fhirVersion: '4.0.1', format: ['json'] };
  if (method === 'POST' && parts.length === 0) return store.transaction(JSON.parse(body) as Bundle);
  const type = parts[0] as ResourceType;
  if (method === 'POST' && parts[1] === '_search') {
    const params: Record<string, string[]> = {};
    for (const [name, value] of new URLSearchParams(body)) (params[name] ??= []).push(value);
    return store.search(type, params);
  }
  if (method === 'GET' && parts.length === 3 && parts[2] === '_history') return store.history(type, parts[1] as string);
  if (method === 'GET' && parts.length === 2) {
    const found = await store.read(type, parts[1] as string);
    if (found === undefined) throw new FhirStoreError('not-found', `${type}/${parts[1]} is not known`, { status: 404 });
    return found;
  }
  throw new FhirStoreError('invalid', `${method} ${path}: not a call HapiStore makes`, { status: 400 });
}

/** The stand-in on a free port of 127.0.0.1, over `store` (a fresh embedded store by default). */
export async function hapiStandIn(store = new EmbeddedStore()): Promise<StandIn> {
  const received: StandIn['received'] = [];
  const server = createServer((request, response) => {
    const path = (request.url ?? '').replace(/^\/fhir\/?/, '/').split('?')[0] ?? '/';
    received.push({ method: request.method ?? '', path, headers: request.headers });
    bodyOf(request)
      .then((body) => answer(store, request.method ?? '', path, body))
      .then(
        (result) => send(response, 200, result),
        (error: unknown) => {
          if (error instanceof ServerAnswer) return send(response, error.status, error.body);
          const status = error instanceof FhirStoreError ? (error.status ?? STATUS_OF_KIND[error.kind] ?? 500) : 500;
          const outcome = error instanceof FhirStoreError && error.outcome !== undefined ? error.outcome : { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'processing', diagnostics: String(error) }] };
          send(response, status, outcome);
        },
      );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/fhir`,
    store,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
