// Issue 16, D2 and point 2: traffic without valid credentials has a budget per address that runs BEFORE
// authentication, lower than a client's: past it, 429 without the credentials even being looked at. Failed
// authentications are audited in aggregate, one AuditEvent per address and window with its counts, never
// one per request (1,400 requests without a key once left 1,400 AuditEvents and 0 × 429).
import { readFileSync } from 'node:fs';
import type { AuditEvent, OperationOutcome } from '@medplum/fhirtypes';
import t from 'tap';
import { EmbeddedStore } from '../../../src/fhir/index.ts';
import type { Act } from '../../../src/model/act.ts';
import { testApp } from '../../support/app.ts';

const act = JSON.parse(readFileSync(new URL('../../../examples/acts/01-teleconsultation-generaliste-infirmier-domicile.json', import.meta.url), 'utf8')) as Act;
const WINDOW_S = 4;
const BUDGET = 5;
const key = { id: 'dpi-limite', key: 'k-dpi-limit-4e9a1c7b2f', scopes: ['acts:write', 'acts:read'] };

const store = new EmbeddedStore();
const { app } = await testApp({ RATE_LIMIT_ANONYMOUS: String(BUDGET), RATE_LIMIT_ANONYMOUS_WINDOW_S: String(WINDOW_S) }, store, { auth: { apiKeys: [key] } });
t.teardown(() => app.close());

const post = (address: string, headers: Record<string, string> = {}) => app.inject({ method: 'POST', url: '/v1/acts', payload: act, headers, remoteAddress: address });
const get = (address: string, headers: Record<string, string> = {}) => app.inject({ method: 'GET', url: '/v1/acts', headers, remoteAddress: address });

async function auditEvents(): Promise<AuditEvent[]> {
  return ((await store.search<AuditEvent>('AuditEvent', { _count: '1000' })).entry ?? []).flatMap((e) => (e.resource ? [e.resource] : []));
}
const aggregates = (events: readonly AuditEvent[]): AuditEvent[] => events.filter((event) => event.type?.code === '110114');
const count = (event: AuditEvent, type: string): number => Number(event.entity?.[0]?.detail?.find((d) => d.type === type)?.valueString ?? 0);

t.test('past its budget an address gets 429 before authentication; clients keep their own, larger budget', async (t) => {
  // Start at the beginning of a window, so that the whole sequence falls in one.
  const windowMs = WINDOW_S * 1000;
  await new Promise((resolve) => setTimeout(resolve, windowMs - (Date.now() % windowMs) + 20));
  const statuses: number[] = [];
  for (let i = 0; i < 12; i++) statuses.push((await post('10.0.0.1', i % 2 === 0 ? {} : { 'x-api-key': `guess-${i}` })).statusCode);
  t.same(statuses, [...Array(BUDGET).fill(401), ...Array(12 - BUDGET).fill(429)], 'five refusals, then throttled');
  const throttled = await post('10.0.0.1', { 'x-api-key': 'guess-last' });
  t.equal(throttled.statusCode, 429);
  t.ok(Number(throttled.headers['retry-after']) >= 1, 'Retry-After');
  const outcome = throttled.json() as OperationOutcome;
  t.equal(outcome.resourceType, 'OperationOutcome');
  t.match(outcome.issue[0]?.details?.text, new RegExp(`au plus ${BUDGET} par ${WINDOW_S} s`));
  t.equal((await post('10.0.0.1', { 'x-api-key': key.key })).statusCode, 429, 'even the right key: its credentials are not looked at (no oracle for guessing)');

  t.equal((await post('10.0.0.2', { 'x-api-key': 'wrong' })).statusCode, 401, 'another address has its own budget');
  const client: number[] = [];
  for (let i = 0; i < 3 * BUDGET; i++) client.push((await get('10.0.0.3', { 'x-api-key': key.key })).statusCode);
  t.same(client, Array(3 * BUDGET).fill(200), 'an authenticated client is not held to the anonymous budget');
});

t.test('failed authentications are audited in aggregate, per address and window, never one event per request', async (t) => {
  let events: AuditEvent[] = [];
  for (let i = 0; i < 200; i++) {
    events = await auditEvents();
    const first = aggregates(events).filter((event) => event.agent?.[0]?.network?.address === '10.0.0.1');
    if (first.length > 0 && aggregates(events).some((event) => event.agent?.[0]?.network?.address === '10.0.0.2')) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const ofFirst = aggregates(events).filter((event) => event.agent?.[0]?.network?.address === '10.0.0.1');
  t.equal(ofFirst.length, 1, 'one AuditEvent for 14 requests of one address in one window');
  const [event] = ofFirst as [AuditEvent];
  t.equal(count(event, 'failed-authentications'), BUDGET);
  t.equal(count(event, 'throttled'), 14 - BUDGET);
  t.equal(event.outcome, '4');
  t.ok(event.period?.start !== undefined && event.period.end !== undefined, 'the window');
  t.notOk(JSON.stringify(event).includes('guess'), 'no credential in it');
  t.equal(aggregates(events).filter((e) => e.agent?.[0]?.network?.address === '10.0.0.2').length, 1);
  const perRequest = events.filter((e) => e.type?.code === 'rest' && e.entity?.some((entity) => entity.detail?.some((d) => d.type === 'http-status' && (d.valueString === '401' || d.valueString === '429'))));
  t.equal(perRequest.length, 0, 'no AuditEvent of its own for a 401 or a 429');
});
