// The projection rebuilt from the FHIR store, for acts and offers it never saw delivered: written
// before the projection existed, or by other systems. Pages through the telehealth Encounters (class VR)
// with what an act read needs (actReadSearch's includes), then through the HealthcareServices with
// their structure, and writes the facts of each page (projection.ts: never over a newer delivery).
// After each page the position is saved in the projection's database: a rebuild cut short (a crash, a
// stop) resumes from there (`resume`). Pages go in `_id` order by `_offset`, as compute.ts does (the
// embedded store gives no next link); an act written meanwhile is either in a later page or delivered
// through the hook, and writing one twice changes nothing.
import type { Bundle, HealthcareService, Organization, Resource } from '@medplum/fhirtypes';
import type { FhirStore } from '../fhir/index.ts';
import { FINESS_SYSTEM } from '../mapping/fr-core.ts';
import { OFFER_IDENTIFIER_SYSTEM } from '../mapping/offer-coding.ts';
import { factOfStored, offerFactOfService } from './facts.ts';
import type { ActFact, OfferFact } from './facts.ts';
import type { Projection } from './projection.ts';

export type RebuildPhase = 'acts' | 'offers' | 'done';

export interface RebuildProgress {
  readonly phase: RebuildPhase;
  /** Resources of the phase read so far (its next page's offset). */
  readonly offset: number;
  /** How many the phase holds, when the store says. */
  readonly total: number | undefined;
  readonly written: number;
  /** Encounters of class VR that are not acts this service can read (another system's shape). */
  readonly skipped: number;
}

export interface RebuildOptions {
  readonly pageSize?: number;
  /** Go on from the saved position instead of starting over. */
  readonly resume?: boolean;
  readonly onProgress?: (progress: RebuildProgress) => void;
  readonly signal?: AbortSignal;
  readonly requestId?: string;
  /** Only the acts and offers of these structures (FINESS): a partial rebuild, or a test on a shared server. */
  readonly finess?: readonly string[];
}

const ACT_PAGE: Record<string, string[]> = {
  class: ['http://terminology.hl7.org/CodeSystem/v3-ActCode|VR'],
  _include: ['Encounter:subject', 'Encounter:participant', 'Encounter:service-provider'],
  '_include:iterate': ['PractitionerRole:practitioner', 'PractitionerRole:organization'],
  _revinclude: ['DocumentReference:encounter', 'Consent:data', 'Observation:encounter'],
};
const OFFER_PAGE: Record<string, string[]> = { _include: ['HealthcareService:organization'] };

const STATE_TABLE = 'CREATE TABLE IF NOT EXISTS indicator_rebuild (id INTEGER PRIMARY KEY, phase TEXT NOT NULL, page_offset INTEGER NOT NULL, written INTEGER NOT NULL, skipped INTEGER NOT NULL)';

async function savedProgress(projection: Projection): Promise<RebuildProgress | undefined> {
  const rows = await projection.all<{ phase: RebuildPhase; page_offset: number; written: number; skipped: number }>('SELECT phase, page_offset, written, skipped FROM indicator_rebuild WHERE id = 1', []);
  const row = rows[0];
  return row === undefined ? undefined : { phase: row.phase, offset: Number(row.page_offset), total: undefined, written: Number(row.written), skipped: Number(row.skipped) };
}

async function save(projection: Projection, progress: RebuildProgress): Promise<void> {
  await projection.run(
    `INSERT INTO indicator_rebuild (id, phase, page_offset, written, skipped) VALUES (1, ?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET phase = excluded.phase, page_offset = excluded.page_offset, written = excluded.written, skipped = excluded.skipped`,
    [progress.phase, progress.offset, progress.written, progress.skipped],
  );
}

function matches(bundle: Bundle): Resource[] {
  return (bundle.entry ?? []).filter((e) => e.search?.mode !== 'include' && e.resource !== undefined).map((e) => e.resource as Resource);
}

/** Each act of a page: its Encounter with every other resource of the page (actFromFhir keys them by the act). */
function actFactsOf(bundle: Bundle, primaryType: string): { facts: ActFact[]; skipped: number } {
  const resources = (bundle.entry ?? []).flatMap((e) => (e.resource === undefined ? [] : [e.resource]));
  const others = resources.filter((r) => r.resourceType !== primaryType);
  const facts: ActFact[] = [];
  let skipped = 0;
  for (const encounter of resources.filter((r) => r.resourceType === primaryType)) {
    const fact = factOfStored([encounter, ...others]);
    if (fact === undefined) skipped += 1;
    else facts.push(fact);
  }
  return { facts, skipped };
}

function offerFactsOf(bundle: Bundle): OfferFact[] {
  const resources = (bundle.entry ?? []).flatMap((e) => (e.resource === undefined ? [] : [e.resource]));
  const organizations = new Map(resources.filter((r): r is Organization => r.resourceType === 'Organization').map((o) => [`Organization/${o.id ?? ''}`, o]));
  return resources
    .filter((r): r is HealthcareService => r.resourceType === 'HealthcareService')
    .flatMap((service) => {
      const id = service.identifier?.find((i) => i.system === OFFER_IDENTIFIER_SYSTEM)?.value ?? (service.id === undefined ? undefined : `HealthcareService/${service.id}`);
      if (id === undefined) return [];
      const organization = service.providedBy?.reference === undefined ? undefined : organizations.get(service.providedBy.reference);
      const finess = organization?.identifier?.find((i) => i.system === FINESS_SYSTEM)?.value ?? null;
      return [offerFactOfService(id, service, finess, organization?.name ?? null)];
    });
}

/** Rebuilds the projection from the store, page by page; answers the final progress. */
export async function rebuildProjection(store: FhirStore, projection: Projection, options: RebuildOptions = {}): Promise<RebuildProgress> {
  await projection.run(STATE_TABLE, []);
  const pageSize = options.pageSize ?? 100;
  const ctx = options.requestId === undefined ? {} : { requestId: options.requestId };
  const saved = options.resume === true ? await savedProgress(projection) : undefined;
  let progress: RebuildProgress = saved ?? { phase: 'acts', offset: 0, total: undefined, written: 0, skipped: 0 };
  let total: number | undefined;
  while (progress.phase !== 'done') {
    options.signal?.throwIfAborted();
    const type = progress.phase === 'acts' ? 'Encounter' : 'HealthcareService';
    const structures = options.finess === undefined ? {} : { [progress.phase === 'acts' ? 'service-provider:Organization.identifier' : 'organization:Organization.identifier']: options.finess.map((f) => `${FINESS_SYSTEM}|${f}`).join(',') };
    const criteria = progress.phase === 'acts' ? { class: ACT_PAGE.class ?? [], ...structures } : structures;
    // HAPI gives no total with _include: one count per phase, for the progress.
    total ??= await store.count(type, criteria, ctx);
    const readAt = await projection.clock();
    const bundle = await store.search(type, { ...(progress.phase === 'acts' ? ACT_PAGE : OFFER_PAGE), ...structures, _sort: '_id', _count: String(pageSize), _offset: String(progress.offset) }, ctx);
    const read = matches(bundle).filter((r) => r.resourceType === type).length;
    let written = 0;
    let skipped = 0;
    if (progress.phase === 'acts') {
      const page = actFactsOf(bundle, type);
      written = await projection.writeRebuilt({ acts: page.facts }, readAt);
      skipped = page.skipped;
    } else {
      written = await projection.writeRebuilt({ offers: offerFactsOf(bundle) }, readAt);
    }
    const offset = progress.offset + read;
    const finished = read === 0 || (bundle.total !== undefined && offset >= bundle.total);
    progress = finished
      ? { phase: progress.phase === 'acts' ? 'offers' : 'done', offset: 0, total: undefined, written: progress.written + written, skipped: progress.skipped + skipped }
      : { phase: progress.phase, offset, total, written: progress.written + written, skipped: progress.skipped + skipped };
    if (finished) total = undefined;
    await save(projection, progress);
    options.onProgress?.(progress);
  }
  return progress;
}
