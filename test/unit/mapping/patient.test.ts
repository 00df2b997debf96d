import type { Extension, Identifier, Patient } from '@medplum/fhirtypes';
import t from 'tap';
import { toFrCorePatient, type PatientInput } from '../../../src/mapping/index.ts';
import { withKey } from '../ins/generators.ts';
import { fileURLToPath } from 'node:url';
import { readFhirPackage } from '../../../src/fhir/validation/fhir-package.ts';

// The assertions below read what to expect from the FR Core package itself (snapshots, value sets, code
// systems), so a mapping that drifts from the profile fails here before it fails in a FHIR server.
const PACKAGE = new URL('../../../../shared/fhir-packages/hl7.fhir.fr.core-2.2.0-ballot-2.tgz', import.meta.url);

/** The package's files by path, read with the reader the validation gate uses. */
function readTgz(url: URL): Map<string, string> {
  return new Map(readFhirPackage(fileURLToPath(url)).files.map((file) => [file.path, file.content.toString('utf8')]));
}

interface ElementDefinition {
  id: string;
  min: number;
  max: string;
  slicing?: { discriminator: { type: string; path: string }[] };
  type?: { code: string; profile?: string[] }[];
  fixedUri?: string;
  patternUri?: string;
  patternCode?: string;
  patternCodeableConcept?: { coding: { system: string; code: string }[] };
  binding?: { strength: string; valueSet: string };
}
interface StructureDefinition {
  url: string;
  snapshot: { element: ElementDefinition[] };
}
interface Terminology {
  url: string;
  concept?: { code: string; display?: string }[];
  compose?: { include: { system?: string; concept?: { code: string }[]; valueSet?: string[] }[]; exclude?: { concept: { code: string }[] }[] };
}

const files = readTgz(PACKAGE);
const canonical = (url: string): string => url.split('|')[0] as string;
function resource<T>(type: string, id: string): T {
  const text = files.get(`package/${type}-${id}.json`);
  if (text === undefined) throw new Error(`${type}/${id} is not in the FR Core package`);
  return JSON.parse(text) as T;
}
const byUrl = (url: string): Terminology => {
  for (const [name, text] of files) {
    if (!name.startsWith('package/') || !name.endsWith('.json')) continue;
    const r = JSON.parse(text) as Terminology;
    if (r.url === canonical(url)) return r;
  }
  throw new Error(`${url} is not in the FR Core package`);
};

const patientIns = resource<StructureDefinition>('StructureDefinition', 'fr-core-patient-ins');
const patientBase = resource<StructureDefinition>('StructureDefinition', 'fr-core-patient');

function element(sd: StructureDefinition, id: string): ElementDefinition {
  const found = sd.snapshot.element.find((e) => e.id === id);
  if (found === undefined) throw new Error(`${id} is not in ${sd.url}`);
  return found;
}
const maxOf = (e: ElementDefinition): number => (e.max === '*' ? Infinity : Number(e.max));
const profileOf = (e: ElementDefinition): string => canonical(e.type?.[0]?.profile?.[0] ?? '');

/** Codes a value set admits, for the value sets made of included code systems or concept lists. */
function valueSetCodes(url: string): { system: string | undefined; codes: Set<string> }[] {
  const vs = byUrl(url);
  const excluded = new Set((vs.compose?.exclude ?? []).flatMap((x) => x.concept.map((c) => c.code)));
  return (vs.compose?.include ?? []).flatMap((inc) => {
    if (inc.valueSet) return inc.valueSet.flatMap((v) => valueSetCodes(v)).map((s) => ({ ...s, codes: new Set([...s.codes].filter((c) => !excluded.has(c))) }));
    const codes = inc.concept ? inc.concept.map((c) => c.code) : (byUrlOrUndefined(inc.system)?.concept ?? []).map((c) => c.code);
    return [{ system: inc.system, codes: new Set(codes.filter((c) => !excluded.has(c))) }];
  });
}
function byUrlOrUndefined(url: string | undefined): Terminology | undefined {
  if (url === undefined) return undefined;
  try {
    return byUrl(url);
  } catch {
    return undefined;
  }
}
// FHIR core value sets are not in the FR Core package: the two we meet are small and stable.
const CORE_VALUE_SETS: Record<string, string[]> = {
  'http://hl7.org/fhir/ValueSet/identifier-use': ['usual', 'official', 'temp', 'secondary', 'old'],
};
function admits(url: string, code: string, system?: string): boolean {
  const core = CORE_VALUE_SETS[canonical(url)];
  if (core) return core.includes(code);
  return valueSetCodes(url).some((inc) => (system === undefined || inc.system === undefined || inc.system === system) && inc.codes.has(code));
}
function pickUseAdmits(url: string, code: string): boolean {
  const vs = byUrl(url);
  const excluded = new Set((vs.compose?.exclude ?? []).flatMap((x) => x.concept.map((c) => c.code)));
  const included = (vs.compose?.include ?? []).flatMap((inc) =>
    inc.valueSet ? inc.valueSet.flatMap((v) => CORE_VALUE_SETS[canonical(v)] ?? []) : (inc.concept ?? []).map((c) => c.code),
  );
  return included.includes(code) && !excluded.has(code);
}

function matchesTypePattern(identifier: Identifier, slice: ElementDefinition): boolean {
  const pattern = slice.patternCodeableConcept?.coding ?? [];
  return pattern.every((p) => identifier.type?.coding?.some((c) => c.system === p.system && c.code === p.code));
}
const ext = (owner: { extension?: Extension[] } | undefined, url: string): Extension[] =>
  (owner?.extension ?? []).filter((e) => e.url === url);

const INS = withKey('2841276451089');
const QUAL: PatientInput = {
  ins: INS,
  identityStatus: 'QUAL',
  traits: {
    birthFamilyName: 'MARTIN',
    birthGivenNames: ['Claire', 'Anne', 'Marie'],
    birthDate: '1984-12-03',
    sex: 'female',
    birthplaceCode: '76451',
    usedFamilyName: 'DURAND',
    usedGivenName: 'Claire',
  },
  ipp: { system: 'urn:oid:1.2.250.1.999.1.1', value: 'IPP-000123' },
};
const PROV: PatientInput = { ...QUAL, identityStatus: 'PROV' };

t.test('the package snapshot is what these tests assume', async (t) => {
  t.same(element(patientIns, 'Patient.identifier').slicing?.discriminator, [{ type: 'value', path: 'type' }], 'identifiers sliced on type');
  t.same(element(patientIns, 'Patient.name').slicing?.discriminator, [{ type: 'value', path: 'use' }], 'names sliced on use');
  t.same(element(patientIns, 'Patient.extension').slicing?.discriminator, [{ type: 'value', path: 'url' }]);
});

t.test('QUAL identity with a valid INS: fr-core-patient-ins', async (t) => {
  const result = toFrCorePatient(QUAL);
  const p: Patient = result.patient;
  t.equal(result.insIncluded, true);
  t.equal(result.insExclusionReason, undefined);
  t.same(p.meta?.profile, [patientIns.url]);

  t.test('every top-level element the profile requires is there', async (t) => {
    const required = patientIns.snapshot.element.filter((e) => /^Patient\.[a-zA-Z]+$/.test(e.id) && e.min > 0);
    t.same(required.map((e) => e.id).sort(), ['Patient.birthDate', 'Patient.extension', 'Patient.gender', 'Patient.identifier', 'Patient.name']);
    for (const e of required) {
      const value = (p as unknown as Record<string, unknown>)[e.id.slice('Patient.'.length)];
      t.ok(Array.isArray(value) ? value.length >= e.min : value !== undefined, e.id);
    }
  });

  t.test('INS-NIR identifier slice', async (t) => {
    const slice = element(patientIns, 'Patient.identifier:INS-NIR.type');
    const matching = (p.identifier ?? []).filter((i) => matchesTypePattern(i, slice));
    t.equal(matching.length, 1, 'one identifier falls in the INS-NIR slice');
    const ins = matching[0] as Identifier;
    t.equal(ins.system, element(patientIns, 'Patient.identifier:INS-NIR.system').patternUri);
    t.equal(ins.value, INS);
    const use = element(patientIns, 'Patient.identifier:INS-NIR.use');
    t.equal(use.binding?.strength, 'required');
    t.ok(pickUseAdmits(use.binding?.valueSet ?? '', ins.use ?? ''), `use ${ins.use} is in ${use.binding?.valueSet}`);
    const typeCoding = ins.type?.coding?.[0];
    const typeSystem = byUrl(typeCoding?.system ?? '');
    const concept = typeSystem.concept?.find((c) => c.code === typeCoding?.code);
    t.ok(concept, 'the type code exists in fr-core-cs-v2-0203');
    t.equal(typeCoding?.display, concept?.display, 'with its official display');
    for (const other of ['INS-NIA', 'INS-NIR-TEST', 'INS-NIR-DEMO', 'NSS']) {
      const s = element(patientIns, `Patient.identifier:${other}.type`);
      t.notOk((p.identifier ?? []).some((i) => matchesTypePattern(i, s)), `nothing falls in ${other}`);
    }
  });

  t.test('IPP in the PI slice, not official', async (t) => {
    const slice = element(patientIns, 'Patient.identifier:PI.type');
    const matching = (p.identifier ?? []).filter((i) => matchesTypePattern(i, slice));
    t.equal(matching.length, 1);
    const ipp = matching[0] as Identifier;
    t.same([ipp.system, ipp.value], [QUAL.ipp.system, QUAL.ipp.value]);
    const use = element(patientIns, 'Patient.identifier:PI.use');
    t.ok(pickUseAdmits(use.binding?.valueSet ?? '', ipp.use ?? ''), `use ${ipp.use} is admitted for PI`);
    t.notOk(pickUseAdmits(use.binding?.valueSet ?? '', 'official'), 'the value set really excludes official');
  });

  t.test('invariants fr-core-1 and fr-core-2 (identity status VALI)', async (t) => {
    const insSystems = ['4.8', '4.9', '4.10', '4.11'].map((s) => `urn:oid:1.2.250.1.213.1.${s}`);
    const official = (p.identifier ?? []).filter((i) => i.use === 'official');
    t.equal(official.length, 1, 'fr-core-2: one official identifier');
    t.ok(insSystems.includes(official[0]?.system ?? ''), 'fr-core-1: it is an INS');
  });

  t.test('official name with the first given name and the full list', async (t) => {
    const officialNames = (p.name ?? []).filter((n) => n.use === element(patientIns, 'Patient.name:officialName.use').patternCode);
    const slice = element(patientIns, 'Patient.name:officialName');
    t.ok(officialNames.length >= slice.min && officialNames.length <= maxOf(slice));
    const name = officialNames[0];
    t.equal(name?.family, 'MARTIN');
    const given = element(patientIns, 'Patient.name:officialName.given');
    t.ok((name?.given?.length ?? 0) >= given.min && (name?.given?.length ?? 0) <= maxOf(given), `given ${given.min}..${given.max}`);
    t.same(name?.given, ['Claire']);
    const listSlice = element(patientIns, 'Patient.name:officialName.extension:birth-list-given-name');
    const list = ext(name, profileOf(listSlice));
    t.ok(list.length >= listSlice.min && list.length <= maxOf(listSlice), 'birth-list-given-name 1..1');
    const listSd = resource<StructureDefinition>('StructureDefinition', 'fr-core-patient-birth-list-given-name');
    t.same(element(listSd, 'Extension.value[x]').type?.map((x) => x.code), ['string']);
    t.equal(list[0]?.valueString, 'Claire Anne Marie');
    const usual = (p.name ?? []).find((n) => n.use === 'usual');
    t.same(usual, { use: 'usual', family: 'DURAND', given: ['Claire'] });
  });

  t.test('gender and birth date', async (t) => {
    const gender = element(patientIns, 'Patient.gender');
    t.equal(gender.binding?.strength, 'required');
    t.ok(admits(gender.binding?.valueSet ?? '', p.gender ?? '', 'http://hl7.org/fhir/administrative-gender'));
    t.equal(p.gender, 'female');
    t.equal(p.birthDate, '1984-12-03');
  });

  t.test('birthplace: patient-birthPlace with the INSEE code extension', async (t) => {
    const slice = element(patientIns, 'Patient.extension:birthPlace');
    const url = element(patientIns, 'Patient.extension:birthPlace.url').fixedUri ?? '';
    const places = ext(p, url);
    t.ok(places.length >= slice.min && places.length <= maxOf(slice), 'birthPlace 1..1');
    t.same(element(patientIns, 'Patient.extension:birthPlace.value[x]').type?.map((x) => x.code), ['Address']);
    const inseeSlice = element(patientIns, 'Patient.extension:birthPlace.value[x].extension:inseeCode');
    const insee = ext(places[0]?.valueAddress, profileOf(inseeSlice));
    t.ok(insee.length >= inseeSlice.min && insee.length <= maxOf(inseeSlice), 'inseeCode 1..1');
    const inseeSd = resource<StructureDefinition>('StructureDefinition', 'fr-core-address-insee-code');
    const value = element(inseeSd, 'Extension.value[x]');
    t.same(value.type?.map((x) => x.code), ['Coding']);
    const systems = valueSetCodes(value.binding?.valueSet ?? '').map((inc) => inc.system);
    t.ok(systems.includes(insee[0]?.valueCoding?.system), `system is the one the value set includes (${systems.join(', ')})`);
    t.equal(insee[0]?.valueCoding?.code, '76451');
  });

  t.test('identity reliability: status and collection method from the bound code systems', async (t) => {
    const url = element(patientIns, 'Patient.extension:identityReliability.url').fixedUri ?? '';
    const reliability = ext(p, url);
    t.equal(reliability.length, 1);
    t.equal(element(patientIns, 'Patient.extension:identityReliability.value[x]').max, '0');
    t.notOk(Object.keys(reliability[0] ?? {}).some((k) => k.startsWith('value')), 'no value on the complex extension');
    const parts = Object.fromEntries(['identityStatus', 'methodCollection'].map((name) => [name, element(patientIns, `Patient.extension:identityReliability.extension:${name}`)]));
    for (const [name, slice] of Object.entries(parts)) {
      const fixed = element(patientIns, `${slice.id}.url`).fixedUri ?? '';
      const found = ext(reliability[0], fixed);
      t.equal(found.length, 1, name);
      const coding = found[0]?.valueCoding;
      const binding = element(patientIns, `${slice.id}.value[x]`).binding;
      t.ok(admits(binding?.valueSet ?? '', coding?.code ?? '', coding?.system), `${name} ${coding?.system}|${coding?.code} in ${binding?.valueSet}`);
    }
    t.equal(ext(reliability[0], 'identityStatus')[0]?.valueCoding?.code, 'VALI', 'QUAL is written VALI + INS in this package');
    t.equal(ext(reliability[0], 'methodCollection')[0]?.valueCoding?.code, 'INSI', 'a qualified identity came from INSi');
  });

  t.test('keys for the conditional write', async (t) => {
    t.equal(result.conditionalKey, 'identifier=urn:oid:1.2.250.1.999.1.1|IPP-000123', 'the source identifier');
    t.equal(result.insSearch, `identifier=urn:oid:1.2.250.1.213.1.4.8|${INS}`);
  });
});

t.test('PROV identity: fr-core-patient with the IPP only', async (t) => {
  const result = toFrCorePatient(PROV);
  const p = result.patient;
  t.equal(result.insIncluded, false);
  t.equal(result.insExclusionCode, 'IDENTITY_NOT_QUALIFIED');
  t.match(result.insExclusionReason, /Identité provisoire/);
  t.equal(result.insSearch, undefined);
  t.same(p.meta?.profile, [patientBase.url]);
  t.equal(p.identifier?.length, 1);
  t.ok(matchesTypePattern(p.identifier?.[0] ?? {}, element(patientBase, 'Patient.identifier:PI.type')));
  for (const slice of ['INS-NIR', 'INS-NIA', 'INS-NIR-TEST', 'INS-NIR-DEMO']) {
    const s = element(patientIns, `Patient.identifier:${slice}.type`);
    t.notOk(p.identifier?.some((i) => matchesTypePattern(i, s)), `nothing in the ${slice} slice`);
  }
  t.notOk(JSON.stringify(p).includes(INS), 'the INS appears nowhere');
  t.notOk(p.identifier?.some((i) => i.use === 'official'));
  const official = p.name?.find((n) => n.use === 'official');
  const given = element(patientBase, 'Patient.name:officialName.given');
  t.ok((official?.given?.length ?? 0) >= given.min, 'fr-core-patient still wants a given name');
  t.equal(ext(official, 'https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-patient-birth-list-given-name')[0]?.valueString, 'Claire Anne Marie');
  const reliability = ext(p, 'https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-identity-reliability')[0];
  t.equal(ext(reliability, 'identityStatus')[0]?.valueCoding?.code, 'PROV');
  t.same(ext(reliability, 'methodCollection'), [], 'no collection method is invented for a provisional identity');
  t.equal(ext(p, 'http://hl7.org/fhir/StructureDefinition/patient-birthPlace').length, 1, 'the traits still travel');
  t.same([p.gender, p.birthDate], ['female', '1984-12-03']);
  t.equal(result.conditionalKey, 'identifier=urn:oid:1.2.250.1.999.1.1|IPP-000123');

  const withMethod = toFrCorePatient({ ...PROV, methodCollection: 'CV' }).patient;
  const method = ext(ext(withMethod, 'https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-identity-reliability')[0], 'methodCollection');
  t.same(method[0]?.valueCoding, { system: 'https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-method-collection', code: 'CV', display: 'Carte vitale' });
});

t.test('the other statuses and the INS left out', async (t) => {
  const statusOf = (p: Patient): string | undefined =>
    ext(ext(p, 'https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-identity-reliability')[0], 'identityStatus')[0]?.valueCoding?.code;

  const recup = toFrCorePatient({ ...QUAL, identityStatus: 'RECUP' });
  t.same([recup.insIncluded, statusOf(recup.patient), recup.insExclusionCode], [false, 'VIDE', 'IDENTITY_NOT_QUALIFIED']);
  const vali = toFrCorePatient({ ...QUAL, identityStatus: 'VALI' });
  t.same([vali.insIncluded, statusOf(vali.patient)], [false, 'VALI']);

  const badKey = toFrCorePatient({ ...QUAL, ins: `${INS.slice(0, 13)}01` });
  t.same([badKey.insIncluded, badKey.insExclusionCode, badKey.patient.meta?.profile], [false, 'INS_INVALID', [patientBase.url]]);
  t.match(badKey.insExclusionReason, /La clé de l'INS est 01/);
  t.equal(badKey.insCheck?.valid, false, 'the check is returned for the caller');

  const noIns = toFrCorePatient({ ...QUAL, ins: undefined });
  t.same([noIns.insIncluded, noIns.insExclusionCode, noIns.insCheck], [false, 'INS_ABSENT', undefined]);

  const noBirthplace = toFrCorePatient({ ...QUAL, traits: { ...QUAL.traits, birthplaceCode: undefined } });
  t.same([noBirthplace.insIncluded, noBirthplace.insExclusionCode], [false, 'TRAITS_INCOMPLETE']);
  t.equal(ext(noBirthplace.patient, 'http://hl7.org/fhir/StructureDefinition/patient-birthPlace').length, 0);
});

t.test('NIA and test identities use their own slices', async (t) => {
  const nia = toFrCorePatient({ ...QUAL, insOid: '1.2.250.1.213.1.4.9' });
  t.ok(nia.insIncluded);
  const niaSlice = element(patientIns, 'Patient.identifier:INS-NIA.type');
  const niaId = nia.patient.identifier?.find((i) => matchesTypePattern(i, niaSlice));
  t.equal(niaId?.system, element(patientIns, 'Patient.identifier:INS-NIA.system').patternUri);
  t.ok(pickUseAdmits(element(patientIns, 'Patient.identifier:INS-NIA.use').binding?.valueSet ?? '', niaId?.use ?? ''), 'NIA use is official, not temp');
  t.equal(nia.insSearch, `identifier=urn:oid:1.2.250.1.213.1.4.9|${INS}`);

  const refused = toFrCorePatient({ ...QUAL, insOid: 'urn:oid:1.2.250.1.213.1.4.10' });
  t.same([refused.insIncluded, refused.insExclusionCode], [false, 'INS_INVALID']);
  const test = toFrCorePatient({ ...QUAL, insOid: 'urn:oid:1.2.250.1.213.1.4.10' }, { allowTestIdentities: true });
  const testSlice = element(patientIns, 'Patient.identifier:INS-NIR-TEST');
  const testId = test.patient.identifier?.find((i) => matchesTypePattern(i, element(patientIns, `${testSlice.id}.type`)));
  t.equal(testId?.system, element(patientIns, `${testSlice.id}.system`).patternUri);
  t.equal(testId?.use, element(patientIns, `${testSlice.id}.use`).patternCode);
});

t.test('details', async (t) => {
  t.equal(toFrCorePatient({ ...PROV, traits: { ...PROV.traits, sex: 'other' } }).patient.gender, 'unknown', 'FR Core has no "other"');
  const odd = toFrCorePatient({ ...PROV, ipp: { system: 'https://dpi.example.fr/ipp', value: 'A|B,C&D E' } });
  t.equal(odd.conditionalKey, 'identifier=https://dpi.example.fr/ipp|A%5C%7CB%5C%2CC%26D%20E', 'FHIR escapes, then URL encoding');
  const spaced = toFrCorePatient({ ...QUAL, ins: ` ${INS} `, traits: { ...QUAL.traits, birthGivenNames: [' Claire ', '', 'Anne'] } });
  t.equal(spaced.patient.identifier?.[0]?.value, INS, 'the trimmed INS is written');
  t.equal(spaced.patient.name?.[0]?.extension?.[0]?.valueString, 'Claire Anne');
  t.same(spaced.patient.name?.[0]?.given, ['Claire']);
  const noUsual = toFrCorePatient({ ...PROV, traits: { ...PROV.traits, usedFamilyName: ' ', usedGivenName: undefined } });
  t.equal(noUsual.patient.name?.length, 1, 'no empty usual name');
});
