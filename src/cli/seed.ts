// `telesante seed --offers N --acts M [--seed S]`: a coherent synthetic data set written to the FHIR
// server, for test harnesses and demonstrations. The offers first, then the acts, and the acts are those
// of the offers' structures, performed by the professionals the offers publish (offerStructures): the
// roadmap indicators, a search of acts by FINESS, an offer's team all meet the same people. Both go
// through the engines of the imports, so through every check and mapping of POST /v1/offers and
// POST /v1/acts; the same seed writes the same data set, and writing it again changes nothing.
import { createValidator } from '../fhir/validation/index.ts';
import { DEFAULT_BATCH_SIZE, DEFAULT_CONCURRENCY, importActs, importOffers, Progress } from '../import/index.ts';
import type { ImportRecord, ImportReject, ImportResult } from '../import/index.ts';
import { HapiStore } from '../fhir/index.ts';
import { generateActs, generateOffers, offerStructures } from '../synthetic/index.ts';
import { actWriter } from './acts.ts';
import { integerOption, report, UsageError, USAGE_EXIT } from './command.ts';
import type { CommandSpec } from './command.ts';
import { fhirBaseUrlOf, IMPORT_ENVIRONMENT } from './import-run.ts';

async function* recordsOf<T>(items: Iterable<T>): AsyncGenerator<ImportRecord> {
  let line = 0;
  for (const item of items) yield { line: ++line, text: JSON.stringify(item), body: item };
}

export const seed: CommandSpec = {
  path: ['seed'],
  summary: "écrit sur le serveur FHIR un jeu de données synthétique cohérent : des offres, et des actes de leurs structures et de leurs professionnels",
  options: [
    { name: 'offers', type: 'string', value: 'N', description: "nombre d'offres, de 1 à 1 000 000 (quatre par structure)" },
    { name: 'acts', type: 'string', value: 'M', description: "nombre d'actes, de 0 à 10 000 000, répartis sur les structures des offres" },
    { name: 'seed', type: 'string', value: 'S', description: 'graine, de 0 à 999 999 (défaut 1) : la même graine écrit le même jeu ; une autre, d’autres structures' },
    { name: 'year', type: 'string', value: 'AAAA', description: 'année des actes, de 1900 à 2100 (défaut 2025)' },
    { name: 'fhir-base-url', type: 'string', value: 'URL', description: 'le serveur FHIR où écrire (défaut : FHIR_BASE_URL)' },
    { name: 'quiet', type: 'boolean', description: 'sans ligne de progression' },
  ],
  details:
    "Les offres (identifiants SEED<S>-…) sont celles de offers generate --seed S ; les actes (identifiants SEED<S>-ACT-…)\nsont ceux de leurs structures, faits par les professionnels que ces offres publient. Chaque offre et chaque acte\npasse les contrôles de l'API. Sans serveur FHIR la commande refuse : le magasin intégré du service vit dans la\nmémoire de son processus.",
  environment: IMPORT_ENVIRONMENT,
  exits: [
    { code: 0, meaning: 'tout est écrit' },
    { code: 1, meaning: 'des offres ou des actes ont été refusés (le message dit combien ; un défaut du générateur)' },
    { code: 2, meaning: `${USAGE_EXIT.meaning}, ou serveur FHIR absent ou qui ne répond pas` },
  ],
  examples: ['telesante seed --offers 200 --acts 5000 --seed 42 --fhir-base-url http://127.0.0.1:8080/fhir'],
  run: async ({ values }) => {
    if (values.offers === undefined) throw new UsageError('usage-missing-option', 'seed demande --offers N (et --acts M)');
    const offers = integerOption(values, 'offers', { min: 1, max: 1_000_000 }) as number;
    const acts = integerOption(values, 'acts', { min: 0, max: 10_000_000, fallback: 0 }) as number;
    const seedValue = integerOption(values, 'seed', { min: 0, max: 999_999, fallback: 1 }) as number;
    const year = integerOption(values, 'year', { min: 1900, max: 2100, fallback: 2025 }) as number;
    const baseUrl = fhirBaseUrlOf({ ...values, 'dry-run': false });
    const store = new HapiStore({ baseUrl: baseUrl as string, timeoutMs: 120_000, retries: 2 });
    const ready = await store.ready();
    if (!ready.ok) {
      report('fhir-unavailable', `le serveur FHIR ${baseUrl} ne répond pas : ${ready.reason}`);
      return 2;
    }
    const validator = await createValidator();
    const prefix = `SEED${seedValue}`;
    const quiet = values.quiet === true;
    // A refusal is a defect of the generator: the first few are shown, with their OperationOutcome.
    let shown = 0;
    const onReject = (reject: ImportReject): void => {
      if (shown++ < 3) report('seed-reject', `ligne ${reject.line} refusée : ${JSON.stringify(reject.outcome.issue)}`);
    };
    const progressOf = (total: number) => (quiet ? undefined : new Progress({ tty: process.stderr.isTTY === true, write: (text) => process.stderr.write(text), total }));

    const started = performance.now();
    const offerProgress = progressOf(offers);
    const offerResult = await importOffers(recordsOf(generateOffers(offers, { seed: seedValue, prefix })), {
      store,
      validator,
      batchSize: DEFAULT_BATCH_SIZE,
      concurrency: DEFAULT_CONCURRENCY,
      requestId: `seed-${seedValue}-offers`,
      onReject,
      onProgress: (counts) => offerProgress?.update(counts),
    });
    offerProgress?.end();
    if (!summarize('offres', offerResult)) return 2;

    let actResult: ImportResult | undefined;
    if (acts > 0) {
      const write = actWriter(store, validator, false);
      const actProgress = progressOf(acts);
      actResult = await importActs(recordsOf(generateActs({ count: acts, seed: seedValue, year, idPrefix: `${prefix}-ACT`, structures: offerStructures(offers, { seed: seedValue }) })), {
        concurrency: DEFAULT_CONCURRENCY,
        requestId: `seed-${seedValue}-acts`,
        write,
        onReject,
        onProgress: (counts) => actProgress?.update(counts),
      });
      actProgress?.end();
      if (!summarize('actes', actResult)) return 2;
    }
    const seconds = (performance.now() - started) / 1000;
    const rejected = offerResult.counts.rejected + (actResult?.counts.rejected ?? 0);
    report(
      rejected === 0 ? 'seed-done' : 'seed-rejects',
      `jeu de données ${prefix} écrit sur ${baseUrl} : ${offerResult.counts.imported.toLocaleString('fr-FR')} offres de ${Math.ceil(offers / 4).toLocaleString('fr-FR')} structures, ` +
        `${(actResult?.counts.imported ?? 0).toLocaleString('fr-FR')} actes, ${rejected.toLocaleString('fr-FR')} refusé(s), en ${seconds.toLocaleString('fr-FR', { maximumFractionDigits: 1 })} s`,
    );
    return rejected === 0 ? 0 : 1;
  },
};

/** Says how a part went; false when it failed (the FHIR server stopped answering). */
function summarize(noun: string, result: ImportResult): boolean {
  if (result.status === 'failed') {
    report('seed-failed', `${noun} : échec après ${result.counts.imported.toLocaleString('fr-FR')} écrit(e)s : ${result.error?.message ?? 'erreur inconnue'} ; relancer la même commande reprend sans doublon`);
    return false;
  }
  if (result.counts.rejected > 0) report('seed-rejected', `${noun} : ${result.counts.rejected.toLocaleString('fr-FR')} refusé(e)s par les contrôles`);
  return true;
}
