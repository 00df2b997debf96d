import { createReadStream, readFileSync } from 'node:fs';
import t from 'tap';
import { validateOffer } from '../../../src/mapping/index.ts';
import { cellsOf, columnOfField, csvHeader, headerOf, importOffers, offerOfRow, recordsOf, rowOfOffer, separatorOf } from '../../../src/import/index.ts';
import type { ImportReject } from '../../../src/import/index.ts';
import { testValidator } from '../../support/app.ts';
import type { ImportRecord } from '../../../src/import/index.ts';
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

t.test('a coordinate with a decimal comma, as a French spreadsheet writes it, is a number', async (t) => {
  const resolved = headerOf('identifiant_offre,site1_latitude,site1_longitude,min_age');
  if (!resolved.ok) throw new Error(resolved.message);
  t.same(offerOfRow(resolved.columns, ['X-1', '48,3904', '-4.4861', '18']).sites, [{ coordinates: { latitude: 48.3904, longitude: -4.4861 } }]);
  t.same(offerOfRow(resolved.columns, ['X-1', '48,39,04', '', '18,5']), { identifiantOffre: 'X-1', sites: [{ coordinates: { latitude: '48,39,04' } }], patientType: { minAge: '18,5' } }, 'two commas, or an age, stay text for the rules to name');
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
  t.match(records[2]?.unreadable, /3 cellules pour 2 colonnes : mettez entre guillemets les cellules qui contiennent un « , »/);
});

t.test('the separator is found from the header: comma, semicolon (French spreadsheets) or tab', async (t) => {
  t.equal(separatorOf('identifiant_offre,name,site1_latitude'), ',');
  t.equal(separatorOf('identifiant_offre;name;site1_latitude'), ';');
  t.equal(separatorOf('identifiant_offre\tname\tsite1_latitude'), '\t');
  t.equal(separatorOf('identifiant_offre'), ',', 'one column: the RFC 4180 comma');
  t.equal(separatorOf('"identifiant_offre";"name,x";"site1_latitude"'), ';', 'a separator inside quotes does not count');
  const row = ['FR-1', '"Téléconsultation, et suivi"', '"teleconsultation;telesoin"', '48,3904', '-4,4861'];
  for (const separator of [',', ';', '\t']) {
    const header = ['identifiant_offre', 'name', 'modalities', 'site1_latitude', 'site1_longitude'].join(separator);
    const cells = separator === ',' ? row.map((cell) => (/^-?\d+,\d+$/.test(cell) ? `"${cell}"` : cell)) : row;
    const records = await all(recordsOf(linesOf(`${header}\n${cells.join(separator)}`), 'csv'));
    t.same(
      records[0]?.body,
      { identifiantOffre: 'FR-1', name: 'Téléconsultation, et suivi', modalities: ['teleconsultation', 'telesoin'], sites: [{ coordinates: { latitude: 48.3904, longitude: -4.4861 } }] },
      `separated by ${JSON.stringify(separator)}`,
    );
  }
  const semicolons = await all(recordsOf(linesOf('identifiant_offre;modalities\nA-1;teleconsultation;telesoin'), 'csv'));
  t.match(semicolons[0]?.unreadable, /mettez entre guillemets les cellules qui contiennent un « ; »/, 'a list cell left unquoted in a ;-file is named');
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
  t.match(doc, /offers-import-windows-1252\.csv/, 'the Windows-1252 example is documented');
  for (const name of header.split(',')) t.ok(doc.includes(name.replace(/^(site|pro|hours|contact)\d+_/, '$1N_')), `${name} is documented`);
});

t.test('examples/offers-import-errors.csv: the broken lines its documentation lists are rejected, naming their column', async (t) => {
  const rejects: ImportReject[] = [];
  const result = await importOffers(recordsOf(createReadStream('examples/offers-import-errors.csv'), 'csv'), {
    validator: await testValidator(),
    batchSize: 50,
    concurrency: 1,
    dryRun: true,
    onReject: (reject) => void rejects.push(reject),
  });
  t.same(result.counts, { read: 13, imported: 6, rejected: 7 });
  const expected: [number, string, string][] = [
    [4, 'structure.finess', 'structure_finess'],
    [6, 'modalities[1]', 'modalities'],
    [7, 'name', 'name'],
    [9, 'sites[0].coordinates.latitude', 'site1_latitude'],
    [10, 'professionals[0].rpps', 'pro1_rpps'],
    [11, 'openingHours[0].closes', 'hours1_closes'],
    [13, 'careMode.code', 'care_mode'],
  ];
  t.same(
    rejects.map((r) => [r.line, r.outcome.issue[0]?.expression?.[0], /\(colonne ([\w…]+)\)$/.exec(r.outcome.issue[0]?.details?.text ?? '')?.[1]]),
    expected,
  );
  const doc = readFileSync('examples/offers-import.md', 'utf8');
  for (const [line, , column] of expected) t.match(doc, new RegExp(`\\| ${line} \\| \x60${column}\x60`), `line ${line} is documented`);
});

t.test('examples/offers-import-windows-1252.csv: a French spreadsheet file (;, Windows-1252, decimal commas) reads right', async (t) => {
  const bytes = readFileSync('examples/offers-import-windows-1252.csv');
  t.ok(bytes.includes(0x9c) && bytes.includes(0x92) && bytes.includes(0x80), 'holds œ, ’ and € as Windows-1252 bytes');
  t.equal(bytes.indexOf(0xc3), -1, 'no UTF-8 sequence for an accented letter');
  const warnings: string[] = [];
  const records = await all(recordsOf(createReadStream('examples/offers-import-windows-1252.csv'), 'csv', { onWarning: (code) => void warnings.push(code) }));
  t.same(warnings, ['encoding-windows-1252'], 'read as Windows-1252, with one warning');
  t.equal(records.length, 3);
  for (const record of records) {
    const validation = validateOffer(record.body);
    t.ok(validation.ok, `line ${record.line}: ${validation.ok ? '' : JSON.stringify(validation.issues)}`);
    t.notMatch(record.text, /\uFFFD/, 'no replacement character');
  }
  const first = records[0]?.body as { name: string; description: string; professionals: { familyName: string; givenName: string }[]; sites: { coordinates: unknown }[] };
  t.equal(first.name, 'Téléexpertise gériatrique – œdèmes, plaies et chutes');
  t.match(first.description, /l’équipe soignante .* « 0 € »/);
  t.same(first.professionals.map((p) => `${p.givenName} ${p.familyName}`), ['Zoé Œhmichen', 'Françoise Lefèvre']);
  t.same(first.sites[0]?.coordinates, { latitude: 45.8336, longitude: 1.2611 }, 'decimal commas');
});
