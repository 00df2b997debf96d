import t from 'tap';
import type { CodeSystem, ValueSet } from '@medplum/fhirtypes';
import { createTerminology, loadTerminology, readTerminologyDir, UnknownCodeError } from '../../src/terminology/index.ts';

const R338 = 'https://mos.esante.gouv.fr/NOS/TRE_R338-ModaliteAccueil/FHIR/TRE-R338-ModaliteAccueil';
const R210 = 'https://mos.esante.gouv.fr/NOS/TRE_R210-ActeSpecifique/FHIR/TRE-R210-ActeSpecifique';
const R213 = 'https://mos.esante.gouv.fr/NOS/TRE_R213-ModePriseEnCharge/FHIR/TRE-R213-ModePriseEnCharge';
const J226 = 'https://mos.esante.gouv.fr/NOS/JDV_J226-ModaliteAccueil-ROR/FHIR/JDV-J226-ModaliteAccueil-ROR';
const ACT_TYPES = 'https://telesante-fhir.fr/fhir/ValueSet/telesante-act-type';
const LOCAL_MODALITY = 'https://telesante-fhir.fr/fhir/CodeSystem/local-reception-modality';
const LOCAL_ACT = 'https://telesante-fhir.fr/fhir/CodeSystem/local-act-type';

const terminology = await loadTerminology();

t.test('local telehealth labels translate to TRE_R338 through the ConceptMap', async (t) => {
  t.same(terminology.translate(LOCAL_MODALITY, 'teleconsultation'), { system: R338, code: '04', display: 'Téléconsultation' });
  t.equal(terminology.translate(LOCAL_MODALITY, 'telesoin').code, '14');
  t.equal(
    terminology.translate('https://telesante-fhir.fr/fhir/ConceptMap/local-reception-modality-to-tre-r338', 'teleexpertise-24h').code,
    '10',
    'the ConceptMap url works as a source too',
  );
});

t.test('every telehealth act label has a national code, régulation in TRE_R213', async (t) => {
  t.same(terminology.translate(LOCAL_ACT, 'teleconsultation'), { system: R210, code: '0988', display: 'Téléconsultation' });
  t.same(terminology.translate(LOCAL_ACT, 'regulation'), { system: R213, code: '27', display: 'Régulation médicale téléphonique' });
  t.throws(() => terminology.translate(LOCAL_ACT, 'regulation', { target: R210 }), UnknownCodeError, 'no TRE_R210 code for régulation');
  for (const label of ['teleconsultation', 'teleexpertise-24h', 'telesoin', 'teleassistance', 'telesurveillance-diabete', 'regulation']) {
    const coding = terminology.translate(LOCAL_ACT, label);
    t.ok(terminology.isInValueSet(ACT_TYPES, coding.system ?? '', coding.code ?? ''), `${label} → ${coding.code} is an act type we emit`);
  }
});

t.test('an unknown local code is an UnknownCodeError naming the field and the code system', async (t) => {
  const error = t.throws(() => terminology.translate(LOCAL_MODALITY, 'visio', { field: 'offer.modalities[0]' }));
  t.type(error, UnknownCodeError);
  t.match(error, { field: 'offer.modalities[0]', system: LOCAL_MODALITY, code: 'visio' });
  t.match((error as Error).message, /Code inconnu « visio »/);
  const bare = t.throws(() => terminology.translate('https://example.org/nothing', 'x'));
  t.equal((bare as UnknownCodeError).field, undefined);
});

t.test('lookup and value set membership over the shipped national terminology', async (t) => {
  t.equal(terminology.lookup(R338, '04'), 'Téléconsultation');
  t.equal(terminology.lookup(R338, '99'), undefined);
  t.equal(terminology.lookup('https://example.org/unknown', '04'), undefined);
  t.ok(terminology.isInValueSet(J226, R338, '04'));
  t.notOk(terminology.isInValueSet(J226, R338, '12'), '12 (téléexpertise > 7 days) left JDV_J226');
  t.notOk(terminology.isInValueSet(J226, R213, '04'), 'the right code in the wrong system is not a member');
  t.ok(terminology.isInValueSet(`${J226}|20260730120000`, R338, '04'), 'a versioned canonical reads the same value set');
  t.ok(terminology.isInValueSet(ACT_TYPES, R210, '0988'));
  t.notOk(terminology.isInValueSet(ACT_TYPES, R210, '0451'), 'Télécrâne is not telehealth');
  t.equal(terminology.checkValueSet('https://example.org/vs/missing', R338, '04'), 'unknown');
  t.equal(terminology.checkCode(R210, '9999'), 'incomplete', 'TRE_R210 is shipped as a fragment: it cannot say no');
  t.equal(terminology.checkCode(R338, '99'), 'unknown-code');
  t.equal(terminology.checkCode('https://example.org/cs', '1'), 'unknown-system');
});

t.test('value set composition: whole systems, filters, nested value sets, excludes', async (t) => {
  const cs: CodeSystem = {
    resourceType: 'CodeSystem', url: 'urn:cs', status: 'active', content: 'complete',
    concept: [{ code: 'a', concept: [{ code: 'a1' }, { code: 'a2' }] }, { code: 'b' }],
  };
  const vs = (url: string, compose: ValueSet['compose']): ValueSet => ({ resourceType: 'ValueSet', url, status: 'active', compose });
  const term = createTerminology([
    cs,
    vs('urn:all', { include: [{ system: 'urn:cs' }] }),
    vs('urn:is-a', { include: [{ system: 'urn:cs', filter: [{ property: 'concept', op: 'is-a', value: 'a' }] }] }),
    vs('urn:nested', { include: [{ valueSet: ['urn:is-a'] }], exclude: [{ system: 'urn:cs', concept: [{ code: 'a2' }] }] }),
    vs('urn:regex', { include: [{ system: 'urn:cs', filter: [{ property: 'concept', op: 'regex', value: '.*' }] }] }),
  ]);
  t.equal(term.checkValueSet('urn:all', 'urn:cs', 'b'), 'member');
  t.equal(term.checkValueSet('urn:all', 'urn:cs', 'zz'), 'not-member');
  t.equal(term.checkValueSet('urn:is-a', 'urn:cs', 'a1'), 'member');
  t.equal(term.checkValueSet('urn:is-a', 'urn:cs', 'b'), 'not-member');
  t.equal(term.checkValueSet('urn:nested', 'urn:cs', 'a1'), 'member');
  t.equal(term.checkValueSet('urn:nested', 'urn:cs', 'a2'), 'not-member', 'excluded');
  t.equal(term.checkValueSet('urn:regex', 'urn:cs', 'a'), 'unknown', 'a filter we cannot evaluate does not say no');
  t.equal(term.checkValueSet('urn:all', undefined, 'a2'), 'member', 'a bare code (type code) is judged within the value set');
});

t.test('the terminology data is consistent', async (t) => {
  const resources = await readTerminologyDir();
  const byUrl = new Map(resources.map((r) => [r.url, r]));
  for (const r of resources) {
    t.ok(r.url && r.id, `${r.resourceType}/${r.id} has an id and a url`);
    if (r.resourceType === 'CodeSystem' && r.url?.startsWith('https://telesante-fhir.fr/')) {
      t.equal(r.count, r.concept?.length, `${r.id}: count matches its concepts`);
    }
    if (r.resourceType === 'ValueSet') {
      for (const include of r.compose?.include ?? []) {
        if (!include.system || !byUrl.has(include.system)) continue;
        const missing = (include.concept ?? []).filter((c) => terminology.lookup(include.system ?? '', c.code ?? '') === undefined);
        t.same(missing.map((c) => c.code), [], `${r.id}: every code it lists exists in ${include.system}`);
      }
    }
    if (r.resourceType === 'ConceptMap') {
      const wrong = (r.group ?? []).flatMap((group) =>
        (group.element ?? []).flatMap((element) =>
          (element.target ?? [])
            .filter((target) => terminology.lookup(group.target ?? '', target.code ?? '') !== target.display)
            .map((target) => `${element.code} → ${target.code}`),
        ),
      );
      t.same(wrong, [], `${r.id}: every target exists, with its display`);
    }
  }
});
