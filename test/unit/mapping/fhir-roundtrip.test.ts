// Round trips through FHIR over generated acts and offers (src/synthetic), as a FHIR client posts them:
// model → FHIR (the transaction we write) → model is the identity, and FHIR → model → FHIR gives the same
// resources again (so ids and meta too: the fullUrls and conditional keys derive from the business keys).
import fc from 'fast-check';
import t from 'tap';
import { normalizeOffer, offersOfFhir, readPostedAct, toActBundle, toOfferBundle, validateAct } from '../../../src/mapping/index.ts';
import { generateActs, generatedOffer } from '../../../src/synthetic/index.ts';
import { NOW } from './offer-examples.ts';

const RECEIVED_AT = '2026-01-15T10:00:00.000Z';

t.test('generated acts: act → FHIR → act is the identity, and FHIR → act → FHIR the same Bundle', async (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 100_000 }), fc.integer({ min: 1, max: 40 }), (seed, count) => {
      const acts = [...generateActs({ count, seed })];
      const act = acts[acts.length - 1];
      if (act === undefined) return;
      const { bundle } = toActBundle(act, { receivedAt: RECEIVED_AT, allowTestIdentities: true });
      const posted = readPostedAct(bundle);
      t.same(posted.issues.filter((i) => i.severity === 'error'), [], `seed ${seed} #${count}: read without error`);
      t.same(posted.body, act, `seed ${seed} #${count}: the same act`);
      const validation = validateAct(posted.body, { allowTestIdentities: true });
      t.ok(validation.ok, `seed ${seed} #${count}: valid`);
      t.same(toActBundle(posted.body as unknown as typeof act, { receivedAt: RECEIVED_AT, allowTestIdentities: true }).bundle, bundle, `seed ${seed} #${count}: the same Bundle`);
    }),
    { numRuns: 40 },
  );
});

t.test('generated offers: offer → FHIR → offer is the identity (normal form), and FHIR → offer → FHIR the same Bundle', async (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 100_000 }), fc.integer({ min: 0, max: 500 }), (seed, index) => {
      const offer = generatedOffer(index, { seed });
      const bundle = toOfferBundle(offer, { now: NOW });
      const [posted, ...others] = offersOfFhir(bundle);
      t.equal(others.length, 0);
      t.same(posted?.issues, [], `seed ${seed} #${index}: nothing that the offer cannot hold`);
      t.same(posted?.offer, normalizeOffer(offer), `seed ${seed} #${index}: the same offer`);
      if (posted?.offer !== undefined) t.same(toOfferBundle(posted.offer, { now: NOW }), bundle, `seed ${seed} #${index}: the same Bundle`);
    }),
    { numRuns: 60 },
  );
});
