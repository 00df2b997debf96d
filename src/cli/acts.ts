// `telesante acts generate`: synthetic acts as NDJSON, one act per line, each valid for POST /v1/acts
// (src/synthetic/acts.ts), for tests, benchmarks and demonstrations; `telesante acts import`: such a file
// into the FHIR store, through the import engine of src/import and the act write of src/writes.
import { createValidator } from '../fhir/validation/index.ts';
import { importActs } from '../import/index.ts';
import { generateActs } from '../synthetic/index.ts';
import { acceptAct, actBatchWrite } from '../writes/index.ts';
import type { FhirStore } from '../fhir/index.ts';
import type { Validator } from '../fhir/validation/index.ts';
import type { Act, ActIssue } from '../model/act.ts';
import { integerOption, stringOption, UsageError, USAGE_EXIT } from './command.ts';
import type { CommandSpec } from './command.ts';
import { IMPORT_ENVIRONMENT, IMPORT_EXITS, IMPORT_OPTIONS, runImport, writeLines } from './import-run.ts';

export const actsGenerate: CommandSpec = {
  path: ['acts', 'generate'],
  summary: 'écrit des actes de télémédecine synthétiques en NDJSON, chacun valide pour POST /v1/acts',
  options: [
    { name: 'count', type: 'string', value: 'N', description: "nombre d'actes, de 1 à 10 000 000 (obligatoire)" },
    { name: 'seed', type: 'string', value: 'S', description: 'graine, de 0 à 4 294 967 295 (défaut 1) : la même graine donne les mêmes actes' },
    { name: 'year', type: 'string', value: 'AAAA', description: 'année des actes, de 1900 à 2100 (défaut 2025)' },
    { name: 'prefix', type: 'string', value: 'P', description: 'préfixe des identifiants des actes' },
    { name: 'output', type: 'string', value: 'FICHIER', description: 'fichier où écrire (défaut : la sortie standard)' },
  ],
  environment: [],
  exits: [{ code: 0, meaning: 'les actes sont écrits' }, USAGE_EXIT],
  examples: ['telesante acts generate --count 500 --seed 3 --output actes.ndjson'],
  run: async ({ values }) => {
    if (values.count === undefined) throw new UsageError('usage-missing-option', 'acts generate demande --count N');
    const count = integerOption(values, 'count', { min: 1, max: 10_000_000 }) as number;
    const seed = integerOption(values, 'seed', { min: 0, max: 2 ** 32 - 1, fallback: 1 }) as number;
    const year = integerOption(values, 'year', { min: 1900, max: 2100, fallback: 2025 }) as number;
    const prefix = stringOption(values, 'prefix');
    const output = stringOption(values, 'output');
    const acts = generateActs({ count, seed, year, ...(prefix === undefined ? {} : { idPrefix: prefix }) });
    await writeLines(output, (function* () {
      for (const act of acts) yield `${JSON.stringify(act)}\n`;
    })());
    return 0;
  },
};

/**
 * One act written as POST /v1/acts writes it: accepted (checked, mapped, validated), then handed to the
 * outbox's act write, which reads what is stored of it and writes its transaction. Throws a problem or
 * a FhirStoreError, as the engine expects.
 */
export function actWriter(store: FhirStore, validator: Validator, allowTestIdentities: boolean): (act: Act, warnings: readonly ActIssue[], ctx: { readonly receivedAt: string; readonly requestId?: string }) => Promise<void> {
  const batch = actBatchWrite({ store, validator, allowTestIdentities });
  // In-flight writes finish after a Ctrl-C: their signal is not the import's.
  const signal = new AbortController().signal;
  return async (act, warnings, ctx) => {
    const payload = acceptAct(validator, act, warnings, new Date(ctx.receivedAt), allowTestIdentities);
    const [outcome] = await batch([{ id: `${act.source}|${act.actId}`, payload, receivedAt: ctx.receivedAt, attempts: 0 }], { ...(ctx.requestId === undefined ? {} : { requestId: ctx.requestId }), signal });
    if (outcome === undefined || 'error' in outcome) throw outcome?.error ?? new Error('no outcome for the act');
  };
}

export const actsImport: CommandSpec = {
  path: ['acts', 'import'],
  summary: 'importe des actes en masse (NDJSON) vers le serveur FHIR, chacun vérifié et écrit comme par POST /v1/acts',
  arguments: { usage: '<fichier|->', min: 1, max: 1 },
  options: [
    ...IMPORT_OPTIONS,
    { name: 'concurrency', type: 'string', value: 'K', description: 'actes écrits à la fois, de 1 à 64 (défaut 4)' },
    { name: 'allow-test-identities', type: 'boolean', description: "accepte les INS d'identités de test (défaut : ALLOW_TEST_IDENTITIES)" },
  ],
  details:
    "Une ligne = le corps JSON de POST /v1/acts. Chaque acte passe les mêmes contrôles (schéma, règles, INS, mapping,\nvalidation FHIR) et s'écrit en une transaction (Encounter, compte rendu, consentement, Provenance…), idempotente\nsur (source, actId) : réimporter un fichier ne change rien. Sans serveur FHIR la commande refuse (le magasin\nintégré du service vit dans la mémoire de son processus) ; --dry-run vérifie tout sans serveur.\nRejets, point de reprise, --resume et Ctrl-C comme pour offers import (examples/offers-import.md).",
  environment: [...IMPORT_ENVIRONMENT, { name: 'ALLOW_TEST_IDENTITIES', meaning: "true : accepte les INS d'identités de test, comme le service" }],
  exits: IMPORT_EXITS,
  examples: ['telesante acts generate --count 200 --output actes.ndjson && telesante acts import actes.ndjson --fhir-base-url http://127.0.0.1:8080/fhir'],
  run: async ({ values, positionals }) => {
    const concurrency = integerOption(values, 'concurrency', { min: 1, max: 64, fallback: 4 }) as number;
    const allowTestIdentities = values['allow-test-identities'] === true || process.env.ALLOW_TEST_IDENTITIES === 'true';
    const validator = await createValidator();
    return runImport(
      {
        command: 'acts import',
        noun: 'actes',
        format: 'ndjson',
        engine: (run, store) => {
          const write = store === undefined ? undefined : actWriter(store, validator, allowTestIdentities);
          return importActs(run.records, {
            ...run,
            concurrency,
            allowTestIdentities,
            // A dry run maps and validates as the route does at acceptance; a real one writes as the worker does.
            write: async (act, warnings, ctx) => {
              if (write === undefined) acceptAct(validator, act, warnings, new Date(ctx.receivedAt), allowTestIdentities);
              else await write(act, warnings, ctx);
            },
          });
        },
      },
      positionals[0] ?? '',
      values,
    );
  },
};
