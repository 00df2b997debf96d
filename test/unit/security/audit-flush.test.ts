// Audit records are gathered (AUDIT_FLUSH_MS, 1 s by default): the records of the requests of one step of
// the grid go to the FHIR store in one transaction, not one transaction beside each act. None is lost:
// they wait in the outbox, and each is written with its own id.
import type { Bundle } from '@medplum/fhirtypes';
import t from 'tap';
import { EmbeddedStore } from '../../../src/fhir/index.ts';
import type { CallContext } from '../../../src/fhir/index.ts';
import { testApp } from '../../support/app.ts';

/** The embedded store, counting the transactions that carry AuditEvents and how many each carries. */
class AuditCountingStore extends EmbeddedStore {
  readonly auditTransactions: number[] = [];
  override async transaction(bundle: Bundle, ctx?: CallContext): Promise<Bundle> {
    const audits = (bundle.entry ?? []).filter((entry) => entry.resource?.resourceType === 'AuditEvent').length;
    if (audits > 0) this.auditTransactions.push(audits);
    return super.transaction(bundle, ctx);
  }
}

t.test('twenty audited requests within a second: their records written together, none lost', async (t) => {
  const store = new AuditCountingStore();
  const { app } = await testApp({ AUDIT_FLUSH_MS: '1000' }, store);
  t.teardown(() => app.close());
  // Twenty audited reads (an unknown act: audited all the same), answered at once.
  for (let i = 0; i < 20; i++) {
    const answer = await app.inject({ method: 'GET', url: `/v1/acts/${encodeURIComponent('https://dpi.example.fr')}/INCONNU-${i}` });
    t.equal(answer.statusCode, 404);
  }
  // Nothing written yet, or a few if the grid's step fell in between; all within about two seconds.
  for (let i = 0; i < 60 && (await store.count('AuditEvent', {})) < 20; i++) await new Promise((resolve) => setTimeout(resolve, 100));
  t.equal(await store.count('AuditEvent', {}), 20, 'every record written');
  t.ok(store.auditTransactions.length <= 3, `in ${store.auditTransactions.length} transaction(s) (${store.auditTransactions.join(', ')} records): not one each`);
});

t.test('AUDIT_FLUSH_MS=0: each record at once', async (t) => {
  const store = new AuditCountingStore();
  const { app } = await testApp({ AUDIT_FLUSH_MS: '0' }, store);
  t.teardown(() => app.close());
  await app.inject({ method: 'GET', url: `/v1/acts/${encodeURIComponent('https://dpi.example.fr')}/INCONNU` });
  for (let i = 0; i < 50 && (await store.count('AuditEvent', {})) < 1; i++) await new Promise((resolve) => setTimeout(resolve, 20));
  t.equal(await store.count('AuditEvent', {}), 1);
});
