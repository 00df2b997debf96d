// Transactions that may create the same resource are not in flight together; once written, a match URL
// holds nobody back (src/fhir/creation-guard.ts).
import type { Bundle, BundleEntry } from '@medplum/fhirtypes';
import t from 'tap';
import { CreationGuard, matchUrls } from '../../../src/fhir/creation-guard.ts';

const role = (value: string) => ({
  resource: { resourceType: 'PractitionerRole' as const },
  request: { method: 'PUT' as const, url: `PractitionerRole?identifier=https://example.fr/sid|${value}` },
});
const organization = (finess: string) => ({
  resource: { resourceType: 'Organization' as const },
  request: { method: 'POST' as const, url: 'Organization', ifNoneExist: `identifier=https://finess.esante.gouv.fr|${finess}` },
});
// Only the requests matter here: the resources are stand-ins.
const transaction = (...entry: object[]): Bundle => ({ resourceType: 'Bundle', type: 'transaction', entry: entry as BundleEntry[] });

/** A write that ends when told to, and says when it started. */
function gate() {
  let open: () => void = () => undefined;
  let fail: (error: Error) => void = () => undefined;
  const state = { started: false };
  const done = new Promise<string>((resolve, reject) => {
    open = () => resolve('written');
    fail = reject;
  });
  return { state, open, fail, write: () => ((state.started = true), done) };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

t.test('match URLs: conditional creates and updates, not plain writes', async (t) => {
  const bundle = transaction(role('A'), organization('750000001'), { resource: { resourceType: 'Encounter' }, request: { method: 'POST', url: 'Encounter' } }, {
    resource: { resourceType: 'Patient', id: 'p1' },
    request: { method: 'PUT', url: 'Patient/p1' },
  });
  t.same(matchUrls(bundle), ['PractitionerRole?identifier=https://example.fr/sid|A', 'Organization?identifier=https://finess.esante.gouv.fr|750000001']);
  t.same(matchUrls(transaction({ resource: { resourceType: 'Organization' }, request: { method: 'POST', url: 'Organization', ifNoneExist: 'Organization?identifier=x|1' } })), ['Organization?identifier=x|1']);
});

t.test('a transaction that may create what one in flight creates waits for it; others do not', async (t) => {
  const guard = new CreationGuard();
  const first = gate();
  const second = gate();
  const other = gate();
  const a = guard.run(transaction(role('A'), organization('1')), first.write);
  const b = guard.run(transaction(role('B'), organization('1')), second.write);
  const c = guard.run(transaction(role('C')), other.write);
  await tick();
  t.ok(first.state.started, 'the first is sent');
  t.notOk(second.state.started, 'the second, which names the same new organization, waits');
  t.ok(other.state.started, 'one that shares nothing is sent');
  first.open();
  t.equal(await a, 'written');
  await tick();
  t.ok(second.state.started, 'sent once the first has written');
  second.open();
  other.open();
  await Promise.all([b, c]);

  // The organization is now known to exist: a write naming it holds nobody back.
  const third = gate();
  const fourth = gate();
  void guard.run(transaction(role('D'), organization('1')), third.write);
  void guard.run(transaction(role('E'), organization('1')), fourth.write);
  await tick();
  t.ok(third.state.started && fourth.state.started, 'a known organization makes nobody wait');
  third.open();
  fourth.open();
});

t.test('a failed transaction releases what it held and teaches nothing', async (t) => {
  const guard = new CreationGuard();
  const first = gate();
  const second = gate();
  const a = guard.run(transaction(role('A')), first.write);
  const b = guard.run(transaction(role('A')), second.write);
  await tick();
  t.notOk(second.state.started);
  first.fail(new Error('refused'));
  await t.rejects(a, /refused/);
  await tick();
  t.ok(second.state.started, 'the next is sent after a failure too');
  const third = gate();
  void guard.run(transaction(role('A')), third.write);
  await tick();
  t.notOk(third.state.started, 'the role is not known to exist after a failure: the third waits for the second');
  second.open();
  await b;
  await tick();
  t.ok(third.state.started);
  third.open();
});
