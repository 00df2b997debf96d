// Which structures the indicators look at. A shared FHIR server holds many more Organizations than those
// that acted in a period (every offer import, every other run): a structure with neither acts in the
// period nor active offers counts zero everywhere, so it must not even be named in a search, or grouping
// by department costs in proportion to the whole server. One with offers only still counts (its offers).
import type { Bundle, Organization } from '@medplum/fhirtypes';
import { readFileSync } from 'node:fs';
import t from 'tap';
import { EmbeddedStore } from '../../../src/fhir/index.ts';
import type { FhirStore, SearchParams } from '../../../src/fhir/index.ts';
import { computeIndicators } from '../../../src/indicators/index.ts';

import { toOfferBundle } from '../../../src/mapping/offer.ts';
import type { Offer } from '../../../src/model/offer.ts';
import { withLuhnKey } from '../../../src/mapping/index.ts';
import { knownDataset, loadKnownDataset } from '../../support/indicator-fixture.ts';
import { DEPARTMENT_75, DEPARTMENT_93, OVERALL, withMonths } from './expected.ts';
import { FINESS_SYSTEM } from '../../../src/mapping/fr-core.ts';

/** The store, with every search and count it answers written down as `Type?params`. */
function recording(store: FhirStore): { store: FhirStore; searches: string[] } {
  const searches: string[] = [];
  const note = (type: string, params: SearchParams) => searches.push(`${type}?${JSON.stringify(params)}`);
  const proxy = new Proxy(store, {
    get(target, property) {
      if (property === 'search') return (type: Parameters<FhirStore['search']>[0], params: SearchParams) => (note(type, params), target.search(type, params));
      if (property === 'count') return (type: Parameters<FhirStore['count']>[0], params: SearchParams) => (note(type, params), target.count(type, params));
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { store: proxy, searches };
}

const finess = (department: string, digits: string) => withLuhnKey(`${department}${digits}`);

async function organizationId(store: FhirStore, code: string): Promise<string> {
  const found = await store.search<Organization>('Organization', { identifier: `${FINESS_SYSTEM}|${code}` });
  const id = found.entry?.[0]?.resource?.id;
  if (id === undefined) throw new Error(`no Organization ${code}`);
  return id;
}

const embedded = new EmbeddedStore();
t.teardown(() => embedded.close());
const data = knownDataset('structures');
await loadKnownDataset(embedded, data);
const period = { from: data.from, to: data.to };

// Another structure of another department, known to the server, with no act and no offer.
const idle = finess('13', '424242');
const idleOrganization: Bundle = {
  resourceType: 'Bundle',
  type: 'transaction',
  entry: [{ resource: { resourceType: 'Organization', identifier: [{ system: FINESS_SYSTEM, value: idle }], name: 'Structure sans activité (test)' }, request: { method: 'POST', url: 'Organization' } }],
};
await embedded.transaction(idleOrganization);
const idleReference = `Organization/${await organizationId(embedded, idle)}`;
const { store, searches } = recording(embedded);

t.test('a structure without activity is in no search and no group, and changes no figure', async (t) => {
  for (const query of [
    { ...period, groupBy: 'department' as const },
    { ...period, groupBy: 'structure' as const },
    { ...period, department: '13' },
    { ...period, finess: [idle, data.finessA] },
  ]) {
    searches.length = 0;
    const report = await computeIndicators(store, query);
    t.ok(searches.length > 0);
    t.same(
      searches.filter((s) => s.includes(idleReference)),
      [],
      `${JSON.stringify(query)}: no search names ${idleReference}`,
    );
    t.notOk(report.groups.some((g) => g.key === '13' || g.key === idle), 'no group for it');
  }
  const byDepartment = await computeIndicators(store, { ...period, groupBy: 'department' });
  t.same(byDepartment.overall, withMonths(OVERALL, data.year));
  t.same(byDepartment.groups.map((g) => [g.key, g.indicators]), [['75', DEPARTMENT_75], ['93', DEPARTMENT_93]]);
  const idleDepartment = await computeIndicators(store, { ...period, department: '13' });
  t.equal(idleDepartment.overall.acts, 0);
  t.equal(idleDepartment.overall.offers?.total, 0);
  const two = await computeIndicators(store, { ...period, groupBy: 'structure', finess: [idle, data.finessA] });
  t.same(two.groups.map((g) => [g.key, g.indicators]), [[data.finessA, DEPARTMENT_75]]);
  t.same({ ...two.overall, actsByMonth: undefined }, { ...DEPARTMENT_75, actsByMonth: undefined });
});

t.test('a structure with active offers and no act still counts for its offers', async (t) => {
  const gp = JSON.parse(readFileSync(new URL('../../../examples/offers/gp-teleconsultation.json', import.meta.url), 'utf8')) as Offer;
  const offering = finess('13', '434343');
  const offer: Offer = { ...gp, identifiantOffre: 'structures-O13', structure: { finess: offering, name: 'Structure avec offre seule (test)' }, professionals: [] };
  await embedded.transaction(toOfferBundle(offer, { now: `${data.year}-01-01T00:00:00+01:00` }));
  const offeringReference = `Organization/${await organizationId(embedded, offering)}`;
  searches.length = 0;
  const report = await computeIndicators(store, { ...period, groupBy: 'department' });
  const actSearches = searches.filter((s) => !s.startsWith('HealthcareService?') && !s.startsWith('Organization?'));
  t.same(actSearches.filter((s) => s.includes(offeringReference)), [], 'no act search names a structure that did not act');
  t.same(report.groups.map((g) => g.key), ['13', '75', '93']);
  const marseille = report.groups[0]?.indicators;
  t.equal(marseille?.acts, 0);
  t.equal(marseille?.professionals, 0);
  t.same(marseille?.offers, { total: 1, withTelehealthReception: 1, fillRate: 1, structuresWithTelehealthOffer: 1 });
  t.same(report.overall.offers, { total: 4, withTelehealthReception: 2, fillRate: 0.5, structuresWithTelehealthOffer: 3 });
  const filtered = await computeIndicators(store, { ...period, department: '13' });
  t.same(filtered.overall.offers, marseille?.offers);
  t.equal(filtered.overall.acts, 0);
});
