import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { CODE_SETS } from '../../../src/mapping/index.ts';
import { generatedCodeSet, generatedText, SOURCES } from '../../../scripts/generate-offer-codes.ts';

const SHARED = fileURLToPath(new URL('../../../../shared/terminology', import.meta.url));
const CODES = new URL('../../../src/mapping/codes/', import.meta.url);

t.test('the copied code sets are the shared terminology (rerun scripts/generate-offer-codes.ts if not)', async (t) => {
  for (const source of SOURCES) {
    t.equal(readFileSync(new URL(source.file, CODES), 'utf8'), generatedText(generatedCodeSet(SHARED, source)), source.file);
  }
});

t.test('the telehealth codes of DOMAIN.md §3 are where the mapping expects them', async (t) => {
  const admitted = (set: keyof typeof CODE_SETS, code: string) => {
    const concept = CODE_SETS[set].concepts[code];
    return concept !== undefined && concept.excluded !== true;
  };
  for (const code of ['03', '04', '05', '10', '11', '14']) t.ok(admitted('receptionModality', code), `R338 ${code} in JDV_J226`);
  t.notOk(admitted('receptionModality', '12'), 'R338 12 (téléexpertise > 7 j) out of JDV_J226');
  for (const code of ['27', '32', '35', '36', '37']) t.ok(admitted('careMode', code), `R213 ${code} in JDV_J19`);
  t.notOk(admitted('careMode', '26'), 'R213 26 (téléconsultation) retired');
  for (const code of ['0988', '1271', '1272', '1273', '1474', '1431', '0824', '1279', '1483', '1484', '1485', '1486', '1487']) {
    t.ok(admitted('specificAct', code), `R210 ${code} in JDV_J16`);
  }
  for (const set of Object.values(CODE_SETS)) {
    t.match(set.system, /^https:\/\/mos\.esante\.gouv\.fr\/NOS\/TRE_[RG]\d+-[A-Za-z]+\/FHIR\/TRE-[RG]\d+-[A-Za-z]+$/, `${set.name}: a NOS code system URL`);
    t.ok(Object.keys(set.concepts).length > 0, `${set.name}: not empty`);
  }
});
