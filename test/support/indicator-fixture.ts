// A small known data set for the indicator tests (issue 10), the same on the embedded store and on HAPI.
// Two structures A (Paris, 75) and B (Seine-Saint-Denis, 93) whose FINESS and RPPS numbers derive from
// the run id, so that runs on a shared HAPI server never meet. The expected values are computed by hand
// in the tests from the comments here.
import type { Bundle, DocumentReference } from '@medplum/fhirtypes';
import { readFileSync } from 'node:fs';
import type { FhirStore } from '../../src/fhir/index.ts';
import { toActBundle } from '../../src/mapping/act.ts';
import { toOfferBundle } from '../../src/mapping/offer.ts';
import type { Act, ActPerformer, ActProfessional } from '../../src/model/act.ts';
import type { Offer } from '../../src/model/offer.ts';
import { withLuhnKey } from '../../src/mapping/index.ts';

/** Six digits from a run id, for FINESS and RPPS numbers of this run. */
function digitsOf(run: string): string {
  let hash = 7;
  for (const c of run) hash = (hash * 31 + c.charCodeAt(0)) % 1_000_000;
  return String(hash).padStart(6, '0');
}

export interface KnownDataset {
  readonly year: number;
  readonly from: string;
  readonly to: string;
  readonly finessA: string;
  readonly finessB: string;
  readonly acts: readonly Act[];
  readonly offers: readonly Offer[];
  /** The act whose report reaches the store without its author (a report from another system). */
  readonly reportWithoutAuthorActId: string;
  /** The offer stored without any telehealth characteristic (an in-person offer of the ROR). */
  readonly inPersonOfferId: string;
}

export function knownDataset(run: string, year = 2024): KnownDataset {
  const digits = digitsOf(run);
  const finess = (dept: string) => withLuhnKey(`${dept}${digits}`);
  const finessA = finess('75');
  const finessB = finess('93');
  const rpps = (n: number) => {
    const body = `2${digits}${String(n).padStart(3, '0')}`;
    return withLuhnKey(body);
  };
  const pro = (n: number, profession: ActProfessional['profession'], structure: string, familyName: string): ActProfessional => ({
    rpps: rpps(n),
    familyName,
    profession,
    finess: structure,
    structureName: structure === finessA ? 'Structure A (test)' : 'Structure B (test)',
  });
  const dA1 = pro(1, 'medecin', finessA, 'AUBERT');
  const dA2 = pro(2, 'medecin', finessA, 'BLANCHARD');
  const nA = pro(3, 'infirmier', finessA, 'COLIN');
  const oA = pro(4, 'orthophoniste', finessA, 'DENIS');
  const dB1 = pro(5, 'medecin', finessB, 'ETIENNE');
  const nB = pro(6, 'infirmier', finessB, 'FABRE');
  const as = (p: ActProfessional, role: ActPerformer['role']): ActPerformer => ({ ...p, role });
  const at = (month: number, day: number, hour: number, y = year) => `${y}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}T${String(hour).padStart(2, '0')}:00:00+01:00`;
  let serial = 0;
  const act = (fields: Partial<Act> & Pick<Act, 'type' | 'status' | 'start' | 'performers'>, report = true): Act => {
    serial += 1;
    const author = fields.performers[0]?.rpps ?? '';
    const end = fields.status === 'finished' ? fields.start.replace(/T(\d\d)/, (_, h: string) => `T${String(Number(h) + 1).padStart(2, '0')}`) : undefined;
    return {
      source: 'https://dpi.indicateurs.test.example.fr',
      actId: `${run}-${serial}`,
      modality: 'video',
      patient: {
        identityStatus: 'VALI',
        traits: { birthFamilyName: 'TESTINDIC', birthGivenNames: ['Alix'], birthDate: '1950-05-05', sex: 'female' },
        ipp: { system: 'urn:oid:1.2.250.1.999.2.9', value: `IPP-${run}` },
      },
      consent: { decision: 'given', dateTime: fields.start, method: 'oral' },
      ...(end === undefined ? {} : { end }),
      ...(fields.status === 'finished' && report ? { report: { authorRpps: author, date: end ?? fields.start, text: 'Compte rendu (test des indicateurs).' } } : {}),
      ...fields,
    };
  };
  const acts: Act[] = [
    // 1. A, January: téléconsultation with a nurse on site.
    act({ type: 'teleconsultation', status: 'finished', start: at(1, 10, 9), performers: [as(dA1, 'primary')], onSiteAssistant: nA }),
    // 2. A, January: téléconsultation without report, a connection loss (degraded).
    act({ type: 'teleconsultation', status: 'finished', start: at(1, 20, 10), performers: [as(dA2, 'primary')], incidents: [{ type: 'connection-loss', time: at(1, 20, 10).replace(':00:00', ':20:00'), effect: 'degraded' }] }, false),
    // 3. A, February: the patient refuses, the act is cancelled.
    act({ type: 'teleconsultation', status: 'cancelled', start: at(2, 5, 11), performers: [as(dA1, 'primary')], consent: { decision: 'refused', dateTime: at(2, 5, 11), method: 'oral' } }),
    // 4. A, February: téléexpertise (dA1 consultant), asked by dB1 of B.
    act({ type: 'teleexpertise', teleexpertiseDelay: 'lt24h', status: 'finished', start: at(2, 12, 14), modality: 'asynchronous', performers: [as(dA1, 'consultant')], requester: dB1 }),
    // 5. A, February: télésoin by the speech therapist, interrupted by an audio failure.
    act({ type: 'telesoin', status: 'finished', start: at(2, 14, 15), performers: [as(oA, 'primary')], incidents: [{ type: 'audio-failure', time: at(2, 14, 15).replace(':00:00', ':10:00'), effect: 'interrupted' }] }),
    // 6. B, January: téléconsultation with a nurse on site, two incidents, converted to in-person.
    act({
      type: 'teleconsultation',
      status: 'finished',
      start: at(1, 15, 9),
      performers: [as(dB1, 'primary')],
      onSiteAssistant: nB,
      incidents: [
        { type: 'connection-loss', time: at(1, 15, 9).replace(':00:00', ':05:00'), effect: 'none' },
        { type: 'video-failure', time: at(1, 15, 9).replace(':00:00', ':15:00'), effect: 'converted-in-person' },
      ],
    }),
    // 7. B, February: télésurveillance by dA1 acting for B (a second PractitionerRole of the same doctor).
    act({ type: 'telesurveillance', telesurveillanceProgram: 'insuffisance-cardiaque', status: 'finished', start: at(2, 20, 9), modality: 'asynchronous', performers: [as({ ...dA1, finess: finessB, structureName: 'Structure B (test)' }, 'primary')] }),
    // 8. B, February: téléconsultation whose report reaches the store without author.
    act({ type: 'teleconsultation', status: 'finished', start: at(2, 25, 16), performers: [as(dB1, 'primary')] }),
    // 9. A, the December before: outside the period.
    act({ type: 'teleconsultation', status: 'finished', start: at(12, 15, 9, year - 1), performers: [as(dA1, 'primary')] }),
    // 10. A, February: planned, not performed yet.
    act({ type: 'teleconsultation', status: 'planned', start: at(2, 27, 9), performers: [as(dA2, 'primary')] }),
  ];

  const offerExample = (name: string) => JSON.parse(readFileSync(new URL(`../../examples/offers/${name}.json`, import.meta.url), 'utf8')) as Offer;
  const gp = offerExample('gp-teleconsultation');
  const ehpad = offerExample('ehpad-telesurveillance');
  const structure = (f: string, name: string) => ({ finess: f, name });
  const offers: Offer[] = [
    // O1, A: téléconsultation (TRE_R338 04).
    { ...gp, identifiantOffre: `${run}-O1`, structure: structure(finessA, 'Structure A (test)'), professionals: [] },
    // O2, A: on site only (TRE_R338 03), as the ROR feed may hold: its telehealth codes are removed at load.
    { ...gp, identifiantOffre: `${run}-O2`, structure: structure(finessA, 'Structure A (test)'), professionals: [] },
    // O3, B: télésurveillance only (act 1483): telehealth, but no telehealth reception modality.
    { ...ehpad, identifiantOffre: `${run}-O3`, structure: structure(finessB, 'Structure B (test)'), sites: ehpad.sites.map((s) => ({ ...s, finess: finessB })), modalities: ['telesurveillance'], specificActs: [{ code: '1483' }], professionals: [] },
    // O4, B: téléconsultation, withdrawn (inactive).
    { ...gp, identifiantOffre: `${run}-O4`, active: false, structure: structure(finessB, 'Structure B (test)'), professionals: [] },
  ];
  return { year, from: `${year}-01-01`, to: `${year}-03-01`, finessA, finessB, acts, offers, reportWithoutAuthorActId: `${run}-8`, inPersonOfferId: `${run}-O2` };
}

/** Writes the data set straight into a store, as the delivery worker would (mapping, then one transaction each). */
export async function loadKnownDataset(store: FhirStore, data: KnownDataset): Promise<void> {
  for (const offer of data.offers) {
    const bundle = toOfferBundle(offer, { now: `${data.year}-01-01T00:00:00+01:00` });
    if (offer.identifiantOffre === data.inPersonOfferId) {
      for (const entry of bundle.entry ?? []) {
        const service = entry.resource;
        if (service?.resourceType !== 'HealthcareService') continue;
        service.characteristic = (service.characteristic ?? []).filter((c) => (c.coding ?? []).every((x) => x.code === '03' || x.code === service.characteristic?.[0]?.coding?.[0]?.code));
      }
    }
    await store.transaction(bundle);
  }
  for (const act of data.acts) {
    const bundle: Bundle = toActBundle(act, { receivedAt: `${data.year}-03-01T00:00:00+01:00` }).bundle;
    if (act.actId === data.reportWithoutAuthorActId) {
      for (const entry of bundle.entry ?? []) {
        if (entry.resource?.resourceType === 'DocumentReference') delete (entry.resource as DocumentReference).author;
      }
    }
    await store.transaction(bundle);
  }
}
