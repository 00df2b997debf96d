// The bytes of an import file as text: UTF-8 (BOM or not) or Windows-1252, found or forced, and never a
// replacement character that was not in the file.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import t from 'tap';
import { decodeBytes, ImportFormatError, recordsOf, surveyFile } from '../../../src/import/index.ts';
import type { Encoding } from '../../../src/import/index.ts';
import { CP1252_UNDEFINED, firstInvalidUtf8 } from '../../../src/import/encoding.ts';

/** Windows-1252 bytes of a text (the letters these tests use). */
function encode1252(text: string): Buffer {
  const high: Record<string, number> = { '€': 0x80, '’': 0x92, 'œ': 0x9c, 'Œ': 0x8c, '–': 0x96, 'Ÿ': 0x9f, 'Š': 0x8a };
  return Buffer.from([...text].map((char) => high[char] ?? (char.charCodeAt(0) < 0x100 ? char.charCodeAt(0) : Number.NaN)));
}

async function decode(chunks: readonly Uint8Array[], encoding?: Encoding): Promise<{ text: string; warnings: string[] }> {
  const warnings: string[] = [];
  let text = '';
  for await (const part of decodeBytes(Readable.from(chunks), { ...(encoding === undefined ? {} : { encoding }), onWarning: (_code, message) => void warnings.push(message) })) text += part;
  return { text, warnings };
}

async function refusal(chunks: readonly Uint8Array[], encoding?: Encoding): Promise<ImportFormatError> {
  try {
    await decode(chunks, encoding);
  } catch (error) {
    if (error instanceof ImportFormatError) return error;
    throw error;
  }
  throw new Error('not refused');
}

/** The same bytes cut into chunks of every size from 1 to 7: a character cut between two chunks reads whole. */
function cuts(bytes: Buffer): Buffer[][] {
  const all: Buffer[][] = [];
  for (let size = 1; size <= 7; size++) {
    const chunks: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
    all.push(chunks);
  }
  return all;
}

const french = 'nom;prénom\nŒhmichen;Zoé\nLefèvre;Françoise – l’équipe « 0 € »\n';

t.test('UTF-8, with or without a BOM, reads as it is, however the chunks fall', async (t) => {
  const utf8 = Buffer.from(french, 'utf8');
  for (const bytes of [utf8, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), utf8])]) {
    for (const chunks of cuts(bytes)) {
      const { text, warnings } = await decode(chunks);
      t.equal(text, french);
      t.same(warnings, []);
    }
  }
  t.equal((await decode([Buffer.from('a\uFFFDb', 'utf8')])).text, 'a\uFFFDb', 'a replacement character that is in the file stays');
});

t.test('a file that is not UTF-8 is read as Windows-1252, with a warning naming its first such line', async (t) => {
  const bytes = encode1252(french);
  t.ok(bytes.includes(0x8c) && bytes.includes(0x80) && bytes.includes(0x92), 'holds bytes of the 0x80–0x9F range');
  for (const chunks of cuts(bytes)) {
    const { text, warnings } = await decode(chunks);
    t.equal(text, french);
    t.equal(warnings.length, 1);
    t.match(warnings[0], /n'est pas de l'UTF-8 valide \(ligne 1, octet 0xE9\) : il est lu comme du Windows-1252/);
  }
  const forced = await decode([bytes], 'windows-1252');
  t.same(forced, { text: french, warnings: [] }, '--encoding windows-1252: no warning');
  const late = Buffer.concat([Buffer.from('a;b\n'.repeat(5)), encode1252('é;è\n')]);
  t.match((await decode([late])).warnings[0], /ligne 6/, 'the line of the first byte that is not UTF-8');
});

t.test('--encoding utf-8 refuses a byte that is not UTF-8, naming its line', async (t) => {
  const refused = await refusal([Buffer.from('a\nb\n'), encode1252('Zoé\n')], 'utf-8');
  t.equal(refused.code, 'encoding-invalid-utf8');
  t.match(refused.message, /^ligne 3 : l'octet 0xE9 n'est pas de l'UTF-8 valide/);
  const cut = await refusal([Buffer.from('abc\n'), Buffer.from([0x5a, 0xc3])], 'utf-8');
  t.match(cut.message, /ligne 2 .*0xC3.*se termine au milieu/, 'a file cut inside a character');
});

t.test('a byte that Windows-1252 does not define is refused, naming its line, never read as something', async (t) => {
  for (const byte of CP1252_UNDEFINED) {
    const bytes = Buffer.concat([encode1252('nom\nZoé\nA'), Buffer.from([byte]), Buffer.from('\n')]);
    const found = await refusal([bytes]);
    t.equal(found.code, 'encoding-undefined-byte');
    t.match(found.message, new RegExp(`^ligne 3 : l'octet 0x${byte.toString(16).toUpperCase()} n'existe pas en Windows-1252`));
    const forced = await refusal([bytes], 'windows-1252');
    t.match(forced.message, /^ligne 3 /, `0x${byte.toString(16)}, forced`);
  }
  t.same(CP1252_UNDEFINED, [0x81, 0x8d, 0x8f, 0x90, 0x9d]);
});

t.test('never a U+FFFD that was not in the file: every byte after an ASCII line reads as a character or is refused', async (t) => {
  for (let byte = 0x80; byte <= 0xff; byte++) {
    for (const encoding of [undefined, 'utf-8', 'windows-1252'] as const) {
      try {
        const { text } = await decode([Buffer.from([0x61, 0x0a, byte, 0x62, 0x0a])], encoding);
        t.notOk(text.includes('\uFFFD'), `0x${byte.toString(16)} ${encoding ?? 'found'}`);
        if (text.includes('\uFFFD')) return;
      } catch (error) {
        if (!(error instanceof ImportFormatError)) throw error;
      }
    }
  }
});

t.test('a file mixing UTF-8 accents and Windows-1252 ones is refused at the first Windows-1252 line', async (t) => {
  const mixed = [Buffer.from('nom\nZoé\n', 'utf8'), Buffer.from('b\n'), encode1252('Françoise\n')];
  const refused = await refusal(mixed);
  t.equal(refused.code, 'encoding-mixed');
  t.match(refused.message, /^ligne 4 : l'octet 0xE7/);
});

t.test('UTF-16 (« Texte Unicode ») and a BOM against --encoding windows-1252 are refused clearly', async (t) => {
  t.equal((await refusal([Buffer.from([0xff, 0xfe, 0x61, 0x00])])).code, 'encoding-utf16');
  t.equal((await refusal([Buffer.from([0xef, 0xbb, 0xbf, 0x61])], 'windows-1252')).code, 'encoding-bom-mismatch');
});

t.test('the first invalid UTF-8 byte: overlong forms, surrogates and code points past U+10FFFF included', async (t) => {
  t.equal(firstInvalidUtf8(Buffer.from('abc é', 'utf8')), 6, 'valid: the length');
  t.equal(firstInvalidUtf8(Buffer.from([0x61, 0xc0, 0x80])), 1, 'overlong NUL');
  t.equal(firstInvalidUtf8(Buffer.from([0x61, 0xe0, 0x80, 0x80])), 1, 'overlong three bytes');
  t.equal(firstInvalidUtf8(Buffer.from([0xed, 0xa0, 0x80])), 0, 'a surrogate');
  t.equal(firstInvalidUtf8(Buffer.from([0xf4, 0x90, 0x80, 0x80])), 0, 'past U+10FFFF');
  t.equal(firstInvalidUtf8(Buffer.from([0x61, 0x62, 0xe9, 0x3b])), 2, 'Windows-1252 é');
  t.equal(firstInvalidUtf8(Buffer.from('😀', 'utf8')), 4, 'four bytes');
});

t.test('surveyFile: the lines and the encoding of a file, before an import', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'survey-'));
  const files = { utf8: join(dir, 'a.csv'), bom: join(dir, 'b.csv'), cp: join(dir, 'c.csv'), bad: join(dir, 'd.csv'), json: join(dir, 'e.ndjson') };
  writeFileSync(files.utf8, french);
  writeFileSync(files.bom, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(french.trimEnd())]));
  writeFileSync(files.cp, encode1252(french));
  writeFileSync(files.bad, Buffer.concat([encode1252('a\né\n'), Buffer.from([0x90])]));
  writeFileSync(files.json, Buffer.concat([Buffer.from('{"a":1}\n'), encode1252('{"n":"é"}\n')]));
  t.same(await surveyFile(files.utf8), { lines: 3, encoding: 'utf-8' });
  t.same(await surveyFile(files.bom), { lines: 3, encoding: 'utf-8' }, 'no newline at the end: still 3 lines');
  const warnings: string[] = [];
  t.same(await surveyFile(files.cp, { onWarning: (code) => void warnings.push(code) }), { lines: 3, encoding: 'windows-1252' });
  t.same(warnings, ['encoding-windows-1252']);
  await t.rejects(surveyFile(files.bad), { code: 'encoding-undefined-byte', message: /^ligne 3 / });
  await t.rejects(surveyFile(files.json, { utf8Only: true }), { code: 'encoding-invalid-utf8', message: /^ligne 2 .*NDJSON/ });
});

t.test('import records of a byte stream: a Windows-1252 ;-file with CRLF, and NDJSON that is not UTF-8', async (t) => {
  const csv = encode1252('identifiant_offre;name;site1_latitude\r\nA-1;Télésoin – Œhmichen;"45,8"\r\nA-2;Zoé;1,5\r\n');
  const records = [];
  for await (const record of recordsOf(Readable.from([csv]), 'csv')) records.push(record);
  t.same(records.map((r) => [r.line, r.body]), [
    [2, { identifiantOffre: 'A-1', name: 'Télésoin – Œhmichen', sites: [{ coordinates: { latitude: 45.8 } }] }],
    [3, { identifiantOffre: 'A-2', name: 'Zoé', sites: [{ coordinates: { latitude: 1.5 } }] }],
  ]);
  const mac = [];
  for await (const record of recordsOf(Readable.from([Buffer.from('identifiant_offre,name\rA-1,x\rA-2,y\r')]), 'csv')) mac.push(record.line);
  t.same(mac, [2, 3], 'lines ended by a lone CR');
  const ndjson = recordsOf(Readable.from([Buffer.from('{"a":1}\n'), encode1252('{"n":"é"}\n')]), 'ndjson');
  await t.rejects((async () => {
    for await (const record of ndjson) void record;
  })(), { code: 'encoding-invalid-utf8', message: /^ligne 2 / });
});
