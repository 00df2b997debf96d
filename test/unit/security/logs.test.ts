// No personal health data in the logs: every example act (valid and invalid), every example offer, INS
// checks and patient previews of each identity, and searches by INS, through the app at level trace;
// then not one INS, family name, given name or birth date of the examples may appear in the log text.
import { readdirSync, readFileSync } from 'node:fs';
import t from 'tap';
import { EmbeddedStore } from '../../../src/fhir/index.ts';
import type { Act } from '../../../src/model/act.ts';
import { testApp } from '../../support/app.ts';
import { examples as offerExamples, invalidExamples as invalidOffers } from '../mapping/offer-examples.ts';

const DIR = new URL('../../../examples/acts/', import.meta.url);
const read = (url: URL): unknown => JSON.parse(readFileSync(url, 'utf8'));
const valid = readdirSync(DIR).filter((f) => f.endsWith('.json')).map((f) => read(new URL(f, DIR)) as Act);
const invalid = readdirSync(new URL('invalid/', DIR)).filter((f) => f.endsWith('.json') && f !== 'expected.json').map((f) => read(new URL(`invalid/${f}`, DIR)) as Act);
const acts = [...valid, ...invalid];

// Both shapes of the logs: JSON lines, and the pretty lines a person reads at a terminal.
for (const format of ['json', 'pretty']) t.test(`no INS, name or birth date of the examples reaches the logs (${format})`, async (t) => {
  const store = new EmbeddedStore();
  const { app, logs } = await testApp({ LOG_LEVEL: 'trace', LOG_FORMAT: format }, store);
  t.teardown(() => app.close());
  for (const act of acts) {
    await app.inject({ method: 'POST', url: '/v1/acts', payload: act });
    const patient = act.patient;
    await app.inject({ method: 'POST', url: '/v1/ins/check', payload: { ins: patient.ins ?? '', traits: { sex: patient.traits.sex, birthDate: patient.traits.birthDate } } });
    await app.inject({ method: 'POST', url: '/v1/ins/patient', payload: patient });
    if (patient.ins !== undefined) await app.inject({ method: 'GET', url: `/v1/acts?patientIns=${patient.ins}` });
    await app.inject({ method: 'GET', url: `/v1/acts/${encodeURIComponent(act.source)}/${encodeURIComponent(act.actId)}` });
  }
  const act = valid[0] as Act;
  await app.inject({ method: 'PUT', url: `/v1/acts/${encodeURIComponent(act.source)}/${act.actId}/report`, payload: act.report });
  await app.inject({ method: 'DELETE', url: `/v1/acts/${encodeURIComponent(act.source)}/${act.actId}`, payload: { reason: 'Erreur de patient' } });
  // Malformed values in every place an INS or a name goes: the 400 answers echo paths, the logs nothing.
  await app.inject({ method: 'GET', url: `/v1/acts?patientIns=${act.patient.ins ?? ''}X` });
  await app.inject({ method: 'POST', url: '/v1/ins/check', payload: { ins: act.patient.ins, traits: { birthDate: `${act.patient.traits.birthDate}x` } } });
  for (const { offer } of offerExamples) await app.inject({ method: 'POST', url: '/v1/offers', payload: offer });
  for (const { offer } of invalidOffers) await app.inject({ method: 'POST', url: '/v1/offers', payload: offer as object });
  // Let the audit records and deliveries finish: their log lines count too.
  await new Promise((resolve) => setTimeout(resolve, 300));

  const text = logs();
  t.ok(text.split('\n').length > acts.length * 5, `the logs are there (${text.split('\n').length} lines)`);
  const secrets = new Set<string>();
  for (const { patient } of acts) {
    if (patient.ins !== undefined && patient.ins.length >= 13) secrets.add(patient.ins);
    secrets.add(patient.traits.birthFamilyName);
    secrets.add(patient.traits.birthDate);
    for (const given of patient.traits.birthGivenNames) secrets.add(given);
    if (patient.traits.usedFamilyName !== undefined) secrets.add(patient.traits.usedFamilyName);
    if (patient.traits.usedGivenName !== undefined) secrets.add(patient.traits.usedGivenName);
  }
  t.ok(secrets.size > 20, `${secrets.size} values searched`);
  for (const secret of secrets) {
    const at = text.indexOf(secret);
    t.equal(at, -1, `${secret} is not in the logs${at < 0 ? '' : `: …${text.slice(Math.max(0, at - 200), at + 50)}…`}`);
  }
});
