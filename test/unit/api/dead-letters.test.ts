// Issue 19, point 4: a write the FHIR server refuses at its delivery keeps why. The dead letter holds the
// server's OperationOutcome (its issues, expressions and diagnostics, cut to a size an outbox row and a
// console page can hold), and the AuditEvent of the refused write says it in a short text, not only
// "HTTP 422". The refusal comes from HAPI as a stand-in plays it (test/support/hapi-stand-in.ts).
import { readFileSync } from 'node:fs';
import type { AuditEvent, Bundle, OperationOutcome } from '@medplum/fhirtypes';
import t from 'tap';
import { EmbeddedStore, FhirStoreError, HapiStore, KEPT_ISSUES } from '../../../src/fhir/index.ts';
import type { CallContext } from '../../../src/fhir/index.ts';
import type { Act } from '../../../src/model/act.ts';
import { testApp } from '../../support/app.ts';
import { hapiStandIn, ServerAnswer } from '../../support/hapi-stand-in.ts';

const act = JSON.parse(readFileSync(new URL('../../../examples/acts/01-teleconsultation-generaliste-infirmier-domicile.json', import.meta.url), 'utf8')) as Act;

/** HAPI's answer to a transaction its validator refuses: many issues, long diagnostics, a narrative. */
function refusal(issues: number): OperationOutcome {
  return {
    resourceType: 'OperationOutcome',
    text: { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml">${'<p>issue</p>'.repeat(issues)}</div>` },
    issue: Array.from({ length: issues }, (_, n) => ({
      severity: 'error' as const,
      code: 'processing' as const,
      diagnostics: `HAPI-0574: Encounter.subject: reference ${n} does not resolve. ${'x'.repeat(n === 0 ? 3_000 : 10)}`,
      expression: [n === 0 ? 'Bundle.entry[0].resource.subject' : `Bundle.entry[${n}].resource`],
    })),
  };
}

/**
 * The embedded store refusing every transaction that writes an Encounter: behind the stand-in, with
 * HAPI's answer as it is on the wire (`issues` of them); alone, as the embedded store refuses.
 */
class RefusingStore extends EmbeddedStore {
  readonly #issues: number | undefined;

  constructor(wireIssues?: number) {
    super();
    this.#issues = wireIssues;
  }

  override async transaction(bundle: Bundle, ctx?: CallContext): Promise<Bundle> {
    if (bundle.entry?.some((entry) => entry.resource?.resourceType === 'Encounter')) {
      if (this.#issues !== undefined) throw new ServerAnswer(422, refusal(this.#issues));
      throw new FhirStoreError('invalid', 'refused', { status: 422, outcome: refusal(3) });
    }
    return super.transaction(bundle, ctx);
  }
}

async function auditEventOfWrite(store: EmbeddedStore): Promise<AuditEvent | undefined> {
  for (let i = 0; i < 200; i++) {
    const found = ((await store.search<AuditEvent>('AuditEvent', { _count: '100' })).entry ?? []).flatMap((e) => (e.resource ? [e.resource] : []));
    const write = found.find((event) => event.action === 'C');
    if (write !== undefined) return write;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return undefined;
}

t.test("a refused act: the dead letter keeps HAPI's OperationOutcome, cut to size; the AuditEvent says why", async (t) => {
  const hapi = await hapiStandIn(new RefusingStore(50));
  t.teardown(() => hapi.close());
  const { app } = await testApp({}, new HapiStore({ baseUrl: hapi.baseUrl, timeoutMs: 5_000, retries: 0 }));
  t.teardown(() => app.close());

  const answer = await app.inject({ method: 'POST', url: '/v1/acts', payload: act });
  t.equal(answer.statusCode, 422, 'the client waited and is told');
  const deliveryId = answer.headers['x-delivery-id'];

  const listed = await app.inject({ method: 'GET', url: '/v1/deliveries?status=dead&kind=act' });
  const [dead] = listed.json().deliveries as { id: string; lastError: { status: number; serverOutcome: OperationOutcome } }[];
  t.equal(dead?.id, deliveryId);
  const kept = dead?.lastError.serverOutcome;
  t.equal(kept?.issue?.[0]?.expression?.[0], 'Bundle.entry[0].resource.subject', 'with its expressions');
  t.match(kept?.issue?.[0]?.diagnostics, /^HAPI-0574: Encounter\.subject/, 'and its diagnostics');
  t.ok((kept?.issue?.[0]?.diagnostics?.length ?? 0) <= 1_000, `a long diagnostics is cut (${kept?.issue?.[0]?.diagnostics?.length})`);
  t.equal(kept?.issue?.length, KEPT_ISSUES + 1, `${KEPT_ISSUES} issues kept, and one that counts the others`);
  t.match(kept?.issue?.[KEPT_ISSUES]?.diagnostics, /^30 more issue/);
  t.equal(kept?.text, undefined, 'no narrative (it repeats the issues)');
  t.ok(JSON.stringify(dead).length < 40_000, `the dead letter stays small: ${JSON.stringify(dead).length} characters`);

  const event = await auditEventOfWrite(hapi.store);
  t.equal(event?.outcome, '4');
  t.match(event?.outcomeDesc, /^HTTP 422: Bundle\.entry\[0\]\.resource\.subject: HAPI-0574/, "the AuditEvent names the server's reason and where");
  t.ok((event?.outcomeDesc?.length ?? 0) <= 320, `in a short text (${event?.outcomeDesc?.length} characters)`);
});

t.test('a refusal with a few issues is kept whole', async (t) => {
  const refusing = new RefusingStore();
  const { app } = await testApp({}, refusing);
  t.teardown(() => app.close());
  t.equal((await app.inject({ method: 'POST', url: '/v1/acts', payload: act })).statusCode, 422);
  const [dead] = (await app.inject({ method: 'GET', url: '/v1/deliveries?status=dead' })).json().deliveries as { lastError: { serverOutcome: OperationOutcome } }[];
  t.same(
    dead?.lastError.serverOutcome.issue?.map((issue) => issue.expression),
    [['Bundle.entry[0].resource.subject'], ['Bundle.entry[1].resource'], ['Bundle.entry[2].resource']],
    'every issue, in order',
  );
});
