import { createReadStream, readFileSync } from 'node:fs';
import t from 'tap';
import { validateOffer } from '../../../src/mapping/index.ts';
import { cellsOf, columnOfField, csvHeader, headerOf, offerOfRow, recordsOf, rowOfOffer } from '../../../src/peuplement/index.ts';
import type { ImportRecord } from '../../../src/peuplement/index.ts';
import { examples } from '../mapping/offer-examples.ts';

async function* linesOf(text: string): AsyncGenerator<string> {
  yield* text.split('\n');
}

async function all(records: AsyncIterable<ImportRecord>): Promise<ImportRecord[]> {
  const list: ImportRecord[] = [];
  for await (const record of records) list.push(record);
  return list;
}

t.test('cells: RFC 4180 quoting, and an open quote asks for the next line', async (t) => {
  t.same(cellsOf('a,"b, c","d ""e""",'), ['a', 'b, c', 'd "e"', '']);
  t.equal(cellsOf('a,"b'), undefined);
  t.same(cellsOf('a,"b\nc"'), ['a', 'b\nc']);
});

t.test('every example offer goes through a CSV row and comes back the same', async (t) => {
  const header = csvHeader({ site: 2, pro: 3, hours: 3, contact: 3 });
  const resolved = headerOf(header.join(','));
  if (!resolved.ok) throw new Error(resolved.message);
  for (const { file, offer } of examples) {
    const row = rowOfOffer(offer, header);
    const cells = cellsOf(row);
    if (cells === undefined) throw new Error('unclosed quote');
    const back = offerOfRow(resolved.columns, cells);
    t.same(back, offer, file);
    t.ok(validateOffer(back).ok, `${file} is still valid`);
  }
});

t.test('a header with an unknown column is refused as a whole, naming it', async (t) => {
  const bad = headerOf('identifiant_offre,name,site1_nom,foo');
  t.notOk(bad.ok);
  if (!bad.ok) t.match(bad.message, /site1_nom, foo/);
  t.ok(headerOf('identifiant_offre,site12_city,pro3_rpps').ok, 'any group number');
});

t.test('groups are packed in order, empty groups dropped, wrong values left for the rules to name', async (t) => {
  const resolved = headerOf('identifiant_offre,sensitive_unit,min_age,max_age,site3_city,site1_city,pro2_rpps,modalities');
  if (!resolved.ok) throw new Error(resolved.message);
  const offer = offerOfRow(resolved.columns, ['X-1', 'oui', '18', '', 'Brest', 'Quimper', '', 'teleconsultation; telesoin']);
  t.same(offer, { identifiantOffre: 'X-1', sensitiveUnit: 'oui', patientType: { minAge: 18 }, sites: [{ address: { city: 'Quimper' } }, { address: { city: 'Brest' } }], modalities: ['teleconsultation', 'telesoin'] });
  const validation = validateOffer(offer);
  t.notOk(validation.ok);
  if (!validation.ok) t.ok(validation.issues.some((i) => i.field === 'sensitiveUnit'), 'the rules name sensitiveUnit');
});

t.test('a field of the offer points back at its column', async (t) => {
  t.equal(columnOfField('sites[0].address.postalCode'), 'site1_postal_code');
  t.equal(columnOfField('professionals[2].rpps'), 'pro3_rpps');
  t.equal(columnOfField('structure.finess'), 'structure_finess');
  t.equal(columnOfField('careMode.code'), 'care_mode');
  t.equal(columnOfField('openingHours[1].hoursType.code'), 'hours2_type');
});

t.test('CSV records carry the number of their first line; a multi-line cell is one record', async (t) => {
  const text = ['identifiant_offre,description', 'A-1,simple', 'A-2,"two', 'lines"', '', 'A-3,"a,b",extra'].join('\n');
  const records = await all(recordsOf(linesOf(text), 'csv'));
  t.same(records.map((r) => r.line), [2, 3, 6]);
  t.same(records[1]?.body, { identifiantOffre: 'A-2', description: 'two\nlines' });
  t.match(records[2]?.unreadable, /3 cells for 2 columns/);
});

t.test('NDJSON records: blank lines skipped, a broken line is unreadable with its number', async (t) => {
  const records = await all(recordsOf(linesOf('{"a":1}\n\n{oops\n{"b":2}'), 'ndjson'));
  t.same(records.map((r) => [r.line, r.unreadable === undefined]), [[1, true], [3, false], [4, true]]);
});

t.test('the example CSV file of examples/ is valid, line by line', async (t) => {
  const records = await all(recordsOf(createReadStream('examples/offers-import.csv'), 'csv'));
  t.ok(records.length >= 6);
  for (const record of records) {
    const validation = validateOffer(record.body);
    t.ok(validation.ok, `line ${record.line}: ${validation.ok ? '' : JSON.stringify(validation.issues)}`);
  }
  const doc = readFileSync('examples/offers-import.md', 'utf8');
  const header = readFileSync('examples/offers-import.csv', 'utf8').split('\n')[0] ?? '';
  for (const name of header.split(',')) t.ok(doc.includes(name.replace(/^(site|pro|hours|contact)\d+_/, '$1N_')), `${name} is documented`);
});
