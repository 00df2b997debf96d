// `telesante offers import <file>` and `telesante offers generate`: the command-line face of src/import
// (the engine behind POST /v1/offers/$import too) and of src/synthetic.
import { createValidator } from '../fhir/validation/index.ts';
import { csvHeader, DEFAULT_BATCH_SIZE, DEFAULT_CONCURRENCY, ENCODINGS, formatOfPath, IMPORT_FORMATS, importOffers, rowOfOffer } from '../import/index.ts';
import type { Encoding, ImportFormat } from '../import/index.ts';
import { generateOffers } from '../synthetic/index.ts';
import { integerOption, stringOption, UsageError, USAGE_EXIT } from './command.ts';
import type { CommandSpec } from './command.ts';
import { IMPORT_ENVIRONMENT, IMPORT_EXITS, IMPORT_OPTIONS, runImport, writeLines } from './import-run.ts';

export const offersImport: CommandSpec = {
  path: ['offers', 'import'],
  summary: 'importe des offres en masse (NDJSON ou CSV) vers le serveur FHIR, chaque ligne jugée comme par POST /v1/offers',
  arguments: { usage: '<fichier|->', min: 1, max: 1 },
  options: [
    { name: 'format', type: 'string', choices: IMPORT_FORMATS, description: "format du fichier (défaut : csv pour un nom en .csv, sinon ndjson ; ndjson pour l'entrée standard) ; fhir : un Bundle searchset du ROR ou du NDJSON de ressources FHIR, lu en entier" },
    { name: 'encoding', type: 'string', choices: ENCODINGS, description: "encodage d'un CSV (défaut : UTF-8 s'il l'est, sinon Windows-1252, avec un avertissement)" },
    ...IMPORT_OPTIONS,
    { name: 'batch-size', type: 'string', value: 'N', description: `offres par transaction, de 1 à 500 (défaut ${DEFAULT_BATCH_SIZE})` },
    { name: 'concurrency', type: 'string', value: 'K', description: `transactions en vol à la fois, de 1 à 64 (défaut ${DEFAULT_CONCURRENCY})` },
  ],
  details:
    "Le fichier est lu une première fois (lignes, encodage) avant toute écriture. Les lignes refusées vont dans\n<fichier>.rejects.ndjson avec leur numéro et leur OperationOutcome ; <fichier>.checkpoint.json dit jusqu'où\ntout est fait. Formats, colonnes du CSV, séparateurs et encodages : examples/offers-import.md.",
  environment: IMPORT_ENVIRONMENT,
  exits: IMPORT_EXITS,
  examples: ['telesante offers import examples/offers-import.csv --dry-run', 'FHIR_BASE_URL=http://127.0.0.1:8080/fhir telesante offers import offres.csv --resume'],
  run: async ({ values, positionals }) => {
    const file = positionals[0] ?? '';
    const format = (stringOption(values, 'format') ?? (file === '-' ? 'ndjson' : formatOfPath(file))) as ImportFormat;
    const encoding = stringOption(values, 'encoding') as Encoding | undefined;
    if (encoding !== undefined && format !== 'csv') throw new UsageError('usage-encoding-ndjson', '--encoding vaut pour un CSV : un NDJSON est en UTF-8');
    const batchSize = integerOption(values, 'batch-size', { min: 1, max: 500, fallback: DEFAULT_BATCH_SIZE }) as number;
    const concurrency = integerOption(values, 'concurrency', { min: 1, max: 64, fallback: DEFAULT_CONCURRENCY }) as number;
    const validator = await createValidator();
    return runImport(
      {
        command: 'offers import',
        noun: 'offres',
        format,
        ...(encoding === undefined ? {} : { encoding }),
        engine: (run, store) => importOffers(run.records, { ...run, validator, batchSize, concurrency, ...(store === undefined ? {} : { store }) }),
      },
      file,
      values,
    );
  },
};

export const offersGenerate: CommandSpec = {
  path: ['offers', 'generate'],
  summary: 'écrit des offres synthétiques réalistes (NDJSON ou CSV), chacune valide pour POST /v1/offers',
  options: [
    { name: 'count', type: 'string', value: 'N', description: "nombre d'offres, de 1 à 10 000 000 (obligatoire)" },
    { name: 'seed', type: 'string', value: 'S', description: 'graine, de 0 à 999 999 999 (défaut 1) : la même graine donne les mêmes offres' },
    { name: 'prefix', type: 'string', value: 'P', description: 'préfixe des identifiants (lettres, chiffres, . _ -, 41 au plus)' },
    { name: 'format', type: 'string', choices: ['ndjson', 'csv'], description: 'format (défaut : csv pour un --output en .csv, sinon ndjson)' },
    { name: 'output', type: 'string', value: 'FICHIER', description: 'fichier où écrire (défaut : la sortie standard)' },
  ],
  environment: [],
  exits: [{ code: 0, meaning: 'les offres sont écrites' }, USAGE_EXIT],
  examples: ['telesante offers generate --count 1000 --seed 7 --output offres.csv'],
  run: async ({ values }) => {
    if (values.count === undefined) throw new UsageError('usage-missing-option', "offers generate demande --count N");
    const count = integerOption(values, 'count', { min: 1, max: 10_000_000 }) as number;
    const seed = integerOption(values, 'seed', { min: 0, max: 999_999_999, fallback: 1 }) as number;
    const prefix = stringOption(values, 'prefix');
    const output = stringOption(values, 'output');
    const format = stringOption(values, 'format') ?? (output !== undefined ? formatOfPath(output) : 'ndjson');
    if (prefix !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._-]{0,40}$/.test(prefix)) throw new UsageError('usage-invalid-value', '--prefix : lettres, chiffres, . _ -, 41 au plus');
    // Generated offers have one site, up to three professionals, two hours entries and two contacts.
    const header = csvHeader({ site: 1, pro: 3, hours: 2, contact: 2 });
    const offers = generateOffers(count, { seed, ...(prefix === undefined ? {} : { prefix }) });
    await writeLines(output, (function* () {
      if (format === 'csv') yield `${header.join(',')}\n`;
      for (const offer of offers) yield `${format === 'csv' ? rowOfOffer(offer, header) : JSON.stringify(offer)}\n`;
    })());
    return 0;
  },
};
