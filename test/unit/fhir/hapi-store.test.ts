// What the HAPI store puts on the wire, seen by a server that records every request: search criteria
// travel in a form body (POST [type]/_search), never in the URL where access logs would keep an INS.
import { createServer } from 'node:http';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { HapiStore } from '../../../src/fhir/index.ts';

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly contentType: string | undefined;
  readonly cacheControl: string | undefined;
  readonly requestId: string | undefined;
  readonly body: string;
}

async function bodyOf(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const seen: Seen[] = [];
const server = createServer((request, response) => {
  void bodyOf(request).then((body) => {
    seen.push({
      method: request.method ?? '',
      url: request.url ?? '',
      contentType: request.headers['content-type'],
      cacheControl: request.headers['cache-control'],
      requestId: request.headers['x-request-id'] as string | undefined,
      body,
    });
    response.writeHead(200, { 'content-type': 'application/fhir+json' });
    response.end(JSON.stringify({ resourceType: 'Bundle', type: 'searchset', total: 3, entry: [] }));
  });
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
const { port } = server.address() as AddressInfo;
const store = new HapiStore({ baseUrl: `http://127.0.0.1:${port}/fhir`, timeoutMs: 5_000, retries: 0 });

const INS = 'urn:oid:1.2.250.1.213.1.4.8|184037512345690';

t.test('a search posts its criteria to [type]/_search as a form, not in the URL', async (t) => {
  seen.length = 0;
  await store.search('Patient', { identifier: INS, date: ['ge2026-01-01', 'lt2027-01-01'] }, { requestId: 'req-1' });
  const request = seen[0];
  t.equal(request?.method, 'POST');
  t.equal(request?.url, '/fhir/Patient/_search', 'no query string');
  t.notOk(request?.url.includes('184037512345690'), 'the INS is not in the URL');
  t.equal(request?.contentType, 'application/x-www-form-urlencoded');
  const form = new URLSearchParams(request?.body);
  t.same(form.getAll('identifier'), [INS]);
  t.same(form.getAll('date'), ['ge2026-01-01', 'lt2027-01-01'], 'a repeated parameter stays repeated');
  t.equal(request?.cacheControl, 'no-cache', 'never answered from the server search cache');
  t.equal(request?.requestId, 'req-1');
});

t.test('a probe is a search HAPI answers without keeping it in its search cache', async (t) => {
  seen.length = 0;
  await store.probe('Encounter', { identifier: INS, _elements: 'identifier' });
  const request = seen[0];
  t.equal(request?.method, 'POST');
  t.equal(request?.url, '/fhir/Encounter/_search', 'criteria in the body, as a search');
  t.same(new URLSearchParams(request?.body).getAll('identifier'), [INS]);
  t.equal(request?.cacheControl, 'no-store', 'neither answered from the search cache nor written into it');
});

t.test('a count is a search with _summary=count, in the body too', async (t) => {
  seen.length = 0;
  t.equal(await store.count('Encounter', { subject: 'Patient/p1' }), 3);
  t.equal(seen[0]?.url, '/fhir/Encounter/_search');
  t.equal(new URLSearchParams(seen[0]?.body).get('_summary'), 'count');
});
