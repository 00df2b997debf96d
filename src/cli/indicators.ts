// `telesante indicators rebuild [--resume] [--page-size N] [--finess F1,F2…]`: rebuilds the indicators projection from the
// FHIR store the configuration names (FHIR_BASE_URL, the outbox's DELIVERY_SQLITE_PATH or
// DELIVERY_DATABASE_URL), page by page, printing its progress; --resume goes on from the last page saved
// (after a stop or a crash). The running service keeps delivering meanwhile: a fact a delivery changes
// during the rebuild is never overwritten by an older read (src/indicators/projection.ts).
import { loadConfig } from '../config.ts';
import { createOutbox } from '../delivery/index.ts';
import { createStore } from '../fhir/index.ts';
import { Projection, rebuildProjection } from '../indicators/index.ts';
import { integerOption, report, stringOption, UsageError, USAGE_EXIT } from './command.ts';
import type { CommandSpec } from './command.ts';

export const indicatorsRebuild: CommandSpec = {
  path: ['indicators', 'rebuild'],
  summary: "reconstruit la projection des indicateurs depuis le serveur FHIR, page par page, pendant que le service tourne",
  options: [
    { name: 'resume', type: 'boolean', description: 'reprend après la dernière page enregistrée (après un arrêt ou une panne)' },
    { name: 'page-size', type: 'string', value: 'N', description: 'ressources lues par page, de 1 à 1 000 (défaut 100)' },
    { name: 'finess', type: 'string', value: 'F1,F2…', description: 'seulement ces structures (numéros FINESS séparés par des virgules)' },
  ],
  environment: [
    { name: 'FHIR_BASE_URL', meaning: 'le serveur FHIR à relire (sans lui : le magasin intégré, vide dans ce processus)' },
    { name: 'DELIVERY_SQLITE_PATH', meaning: "la boîte d'envoi SQLite qui tient la projection (défaut data/outbox.sqlite)" },
    { name: 'DELIVERY_DATABASE_URL', meaning: "la boîte d'envoi PostgreSQL partagée, si le service en a une" },
  ],
  exits: [
    { code: 0, meaning: 'la projection est reconstruite (le bilan en JSON sur la sortie standard)' },
    { code: 1, meaning: 'la reconstruction s’est arrêtée (serveur FHIR…) ; --resume reprend' },
    USAGE_EXIT,
  ],
  examples: ['FHIR_BASE_URL=http://127.0.0.1:8080/fhir telesante indicators rebuild --page-size 200'],
  run: async ({ values }) => {
    const pageSize = integerOption(values, 'page-size', { min: 1, max: 1000, fallback: 100 }) as number;
    const finess = stringOption(values, 'finess')?.split(',');
    if (finess !== undefined && finess.some((f) => !/^(?:[0-9]{9}|2[AB][0-9]{7})$/.test(f))) {
      throw new UsageError('usage-invalid-value', '--finess est une liste de numéros FINESS (9 caractères) séparés par des virgules');
    }
    const config = loadConfig(process.env);
    const store = createStore(config);
    const outbox = createOutbox(config);
    const started = performance.now();
    try {
      const projection = new Projection(outbox.database);
      const done = await rebuildProjection(store, projection, {
        pageSize,
        resume: values.resume === true,
        ...(finess === undefined ? {} : { finess }),
        onProgress: (p) =>
          report('indicators-progress', `reconstruction : ${p.phase === 'done' ? 'terminée' : `${p.phase} ${p.offset}${p.total === undefined ? '' : `/${p.total}`}`}, ${p.written} faits écrits, ${p.skipped} ignorés`),
      });
      console.log(JSON.stringify({ written: done.written, skipped: done.skipped, seconds: Math.round((performance.now() - started) / 100) / 10 }));
      return 0;
    } catch (error) {
      report('indicators-rebuild-failed', `reconstruction arrêtée : ${(error as Error).message} ; relancez avec --resume pour reprendre à la dernière page enregistrée`);
      return 1;
    } finally {
      await outbox.close();
      await store.close();
    }
  },
};
