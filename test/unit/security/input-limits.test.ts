// No input crashes the service (issue 16, D3, D4): a body nested deeper than MAX_JSON_DEPTH is a 400
// naming the limit, found by a scan of the text before anything walks it (the strict validator's walk once
// overflowed the stack at 2,000 levels: a 500); base64 is checked by a linear scan (the schema's regular
// expression once overflowed at 4.6 million characters: a 500); and one attachment cap holds everywhere:
// the schema, the FHIR validation (which capped at 1 MiB while the schema let 10 MB through) and the README.
import { readFileSync } from 'node:fs';
import type { OperationOutcome } from '@medplum/fhirtypes';
import t from 'tap';
import { EmbeddedStore } from '../../../src/fhir/index.ts';
import type { Act } from '../../../src/model/act.ts';
import { MAX_ATTACHMENT_BASE64_LENGTH, MAX_ATTACHMENT_BYTES } from '../../../src/model/act.ts';
import { jsonDepth, MAX_JSON_DEPTH } from '../../../src/security/index.ts';
import { testApp } from '../../support/app.ts';
import { example } from '../mapping/offer-examples.ts';

const act = JSON.parse(readFileSync(new URL('../../../examples/acts/01-teleconsultation-generaliste-infirmier-domicile.json', import.meta.url), 'utf8')) as Act;
const actPath = `/v1/acts/${encodeURIComponent(act.source)}/${encodeURIComponent(act.actId)}`;
const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');

const { app } = await testApp({ RATE_LIMIT_PER_MINUTE: '0' }, new EmbeddedStore());
t.teardown(() => app.close());

function outcomeOf(body: string): OperationOutcome {
  const parsed = JSON.parse(body) as OperationOutcome;
  if (parsed.resourceType !== 'OperationOutcome') throw new Error(`not an OperationOutcome: ${body.slice(0, 300)}`);
  return parsed;
}

const nested = (levels: number, open = '[', close = ']'): string => `${open.repeat(levels)}${close.repeat(levels)}`;
const deepField = (levels: number): string => `{"source":"x","deep":${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}}`;

t.test('jsonDepth: one pass, strings do not count, NDJSON lines count from zero', async (t) => {
  t.equal(jsonDepth('{"a":[1,{"b":[]}]}', 100), 4);
  t.equal(jsonDepth('{"a":"[[[[{{{{\\"[[["}', 100), 1, 'brackets in strings, escaped quotes');
  t.equal(jsonDepth(nested(1_000_000), 64), 65, 'stops as soon as the limit is passed');
  t.equal(jsonDepth(`${nested(40)}\n${nested(40)}`, 64, true), 40, 'per line');
  t.equal(jsonDepth(`${'['.repeat(40)}\n${nested(40)}`, 64, true), 40, 'an unclosed line does not carry over');
});

t.test(`bodies nested deeper than ${MAX_JSON_DEPTH} levels: 400 naming the limit, on every JSON route and content type`, async (t) => {
  const routes: [string, string][] = [
    ['POST', '/v1/acts'],
    ['POST', '/v1/offers'],
    ['PUT', `${actPath}/report`],
    ['POST', '/v1/ins/check'],
    ['POST', '/v1/$validate'],
  ];
  for (const [method, url] of routes) {
    for (const [what, payload] of [
      ['2,000 arrays', nested(2_000)],
      ['100,000 objects', deepField(100_000)],
      [`${MAX_JSON_DEPTH + 1} levels`, deepField(MAX_JSON_DEPTH)],
    ] as const) {
      for (const type of ['application/json', 'application/fhir+json']) {
        const response = await app.inject({ method: method as 'POST', url, headers: { 'content-type': type }, payload });
        t.equal(response.statusCode, 400, `${method} ${url}, ${what}, ${type}`);
        t.match(outcomeOf(response.body).issue[0]?.details?.text, new RegExp(`${MAX_JSON_DEPTH} niveaux`));
      }
    }
  }
  const fine = await app.inject({ method: 'POST', url: '/v1/acts', headers: { 'content-type': 'application/json' }, payload: deepField(MAX_JSON_DEPTH - 2) });
  t.equal(fine.statusCode, 400, 'within the limit: judged by the schema');
  t.notMatch(outcomeOf(fine.body).issue[0]?.details?.text, /niveaux/);
  const line = JSON.stringify(example('gp-teleconsultation'));
  const imported = await app.inject({ method: 'POST', url: '/v1/offers/$import', headers: { 'content-type': 'application/x-ndjson' }, payload: `${line}\n${deepField(5_000)}\n${line}` });
  t.equal(imported.statusCode, 400, 'an NDJSON import with a line too deep');
  t.match(outcomeOf(imported.body).issue[0]?.details?.text, new RegExp(`${MAX_JSON_DEPTH} niveaux`));
});

t.test('base64 is checked by a linear scan, and one attachment cap holds everywhere', async (t) => {
  const mebibytes = MAX_ATTACHMENT_BYTES / 1024 / 1024;
  t.ok(readme.includes(`${mebibytes} MiB`) && readme.includes(String(MAX_ATTACHMENT_BASE64_LENGTH)), 'the README names the cap');
  const huge = 'A'.repeat(4_600_000);
  const tooLarge = await app.inject({ method: 'POST', url: '/v1/acts', payload: { ...act, report: { ...act.report, text: undefined, pdfBase64: huge } } });
  t.equal(tooLarge.statusCode, 413, `a PDF of 4.6 million base64 characters: ${tooLarge.body.slice(0, 200)}`);
  t.same(outcomeOf(tooLarge.body).issue[0]?.expression, ['report.pdfBase64']);
  t.match(outcomeOf(tooLarge.body).issue[0]?.details?.text, new RegExp(`${mebibytes} Mio`));
  const report = await app.inject({ method: 'PUT', url: `${actPath}/report`, payload: { ...act.report, text: undefined, pdfBase64: huge } });
  t.equal(report.statusCode, 413, 'the same on a report amendment');
  const photo = await app.inject({ method: 'POST', url: '/v1/acts', payload: { ...act, report: { ...act.report, attachments: [{ contentType: 'image/png', dataBase64: huge }] } } });
  t.equal(photo.statusCode, 413, 'and on an attachment');
  t.same(outcomeOf(photo.body).issue[0]?.expression, ['report.attachments[0].dataBase64']);

  const notBase64 = await app.inject({ method: 'POST', url: '/v1/acts', payload: { ...act, report: { ...act.report, text: undefined, pdfBase64: `${'A'.repeat(3_000_000)}$AAA` } } });
  t.equal(notBase64.statusCode, 400, 'not base64');
  t.match(outcomeOf(notBase64.body).issue[0]?.details?.text, /[Bb]ase64/);

  // A PDF at the cap (more than the 1 MiB the FHIR validation allowed before): accepted, stored, read back.
  const atCap = Buffer.alloc(MAX_ATTACHMENT_BYTES, 7);
  atCap.write('%PDF-1.7\n');
  const pdfBase64 = atCap.toString('base64');
  t.equal(pdfBase64.length, MAX_ATTACHMENT_BASE64_LENGTH);
  const big = { ...act, actId: 'TC-PDF-CAP', report: { ...act.report, text: undefined, pdfBase64 } };
  const accepted = await app.inject({ method: 'POST', url: '/v1/acts', payload: big });
  t.equal(accepted.statusCode, 201, accepted.body.slice(0, 300));
  const read = await app.inject({ method: 'GET', url: `/v1/acts/${encodeURIComponent(big.source)}/${big.actId}` });
  t.equal((read.json() as Act).report?.pdfBase64?.length, MAX_ATTACHMENT_BASE64_LENGTH);
  const over = { ...big, actId: 'TC-PDF-OVER', report: { ...big.report, pdfBase64: Buffer.alloc(MAX_ATTACHMENT_BYTES + 3, 7).toString('base64') } };
  t.equal((await app.inject({ method: 'POST', url: '/v1/acts', payload: over })).statusCode, 413, 'three bytes over the cap');
});
