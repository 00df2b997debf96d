// What `offers import` and `acts import` share at a terminal: the file read once first (its lines, its
// encoding), the progress line, the rejects file, the checkpoint and `--resume`, Ctrl-C, the summary
// line, the exit code. The engine that checks and writes each record is the caller's.
import { createReadStream, createWriteStream } from 'node:fs';
import type { WriteStream } from 'node:fs';
import { rename, stat } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { once } from 'node:events';
import { HapiStore } from '../fhir/index.ts';
import { checkpointPathOf, ImportFormatError, Progress, readCheckpoint, recordsOf, surveyFile, writeCheckpoint } from '../import/index.ts';
import type { Checkpoint, Encoding, ImportCounts, ImportFormat, ImportRecord, ImportReject, ImportResult } from '../import/index.ts';
import { report, stringOption, UsageError, warn } from './command.ts';
import type { CommandInput, OptionSpec } from './command.ts';

/** The options every import takes. */
export const IMPORT_OPTIONS: readonly OptionSpec[] = [
  { name: 'fhir-base-url', type: 'string', value: 'URL', description: 'le serveur FHIR où écrire (défaut : FHIR_BASE_URL)' },
  { name: 'dry-run', type: 'boolean', description: "lit et vérifie chaque ligne (règles, mapping, validation FHIR) sans rien écrire ni demander de serveur" },
  { name: 'resume', type: 'boolean', description: 'reprend après la dernière ligne faite (<fichier>.checkpoint.json)' },
  { name: 'rejects', type: 'string', value: 'FICHIER', description: 'où écrire les lignes rejetées (défaut : <fichier>.rejects.ndjson)' },
  { name: 'quiet', type: 'boolean', description: 'sans ligne de progression' },
];

export const IMPORT_ENVIRONMENT = [{ name: 'FHIR_BASE_URL', meaning: 'le serveur FHIR où écrire, quand --fhir-base-url ne le donne pas' }] as const;

export const IMPORT_EXITS = [
  { code: 0, meaning: 'toutes les lignes sont passées' },
  { code: 1, meaning: 'des lignes sont rejetées (chacune dans le fichier des rejets, avec son OperationOutcome)' },
  { code: 2, meaning: "erreur fatale : ligne de commande, fichier illisible (en-tête, encodage), serveur FHIR qui ne répond pas ; rien n'est perdu, --resume reprend" },
  { code: 130, meaning: 'arrêté par Ctrl-C (les lots en cours finis, le point de reprise écrit)' },
] as const;

export interface ImportRun {
  readonly records: AsyncIterable<ImportRecord>;
  readonly dryRun: boolean;
  readonly signal: AbortSignal;
  readonly resumeFrom?: { readonly line: number; readonly counts: ImportCounts };
  readonly requestId: string;
  readonly onReject: (reject: ImportReject) => Promise<void>;
  readonly onWatermark: (line: number, counts: ImportCounts) => Promise<void>;
  readonly onProgress: (counts: ImportCounts) => void;
}

export interface ImportJob {
  /** `offers import`, `acts import`: for the messages. */
  readonly command: string;
  /** `offres`, `actes`: what is counted. */
  readonly noun: string;
  readonly format: ImportFormat;
  readonly encoding?: Encoding;
  /** Checks and writes the records (to `store`, absent in a dry run). */
  readonly engine: (run: ImportRun, store: HapiStore | undefined) => Promise<ImportResult>;
}

/** The FHIR server the command writes to; a usage error when there is none and something is to be written. */
export function fhirBaseUrlOf(values: CommandInput['values']): string | undefined {
  const url = (stringOption(values, 'fhir-base-url') ?? process.env.FHIR_BASE_URL)?.replace(/\/+$/, '');
  if (url !== undefined && url !== '') return url;
  if (values['dry-run'] === true) return undefined;
  throw new UsageError(
    'no-fhir-server',
    "aucun serveur FHIR où écrire : donnez --fhir-base-url URL ou FHIR_BASE_URL (le magasin intégré du service vit dans la mémoire de son processus : la ligne de commande ne peut pas y écrire), ou --dry-run pour tout vérifier sans écrire",
  );
}

/**
 * Keeps the rejects of lines up to the watermark: those after it are replayed, and would come twice. A
 * record that does not parse was cut short by a kill (SIGKILL, a crash): it is of a line after the
 * watermark, since the rejects up to it are on disk before the checkpoint names it, so it goes too.
 */
async function trimRejects(path: string, watermark: number): Promise<void> {
  try {
    await stat(path);
  } catch {
    return;
  }
  const temporary = `${path}.tmp`;
  const out = createWriteStream(temporary);
  for await (const text of createInterface({ input: createReadStream(path), crlfDelay: Infinity })) {
    if (text.trim() === '') continue;
    let line: number | undefined;
    try {
      line = (JSON.parse(text) as { line?: number }).line;
    } catch {
      continue;
    }
    if (line !== undefined && line <= watermark && !out.write(`${text}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  await rename(temporary, path);
}

export async function writeLine(stream: Writable, text: string): Promise<void> {
  if (!stream.write(text)) await once(stream, 'drain');
}

/** Writes `lines` (each ends with its own newline) to the file `output`, or to standard output; done once on disk. */
export async function writeLines(output: string | undefined, lines: Iterable<string>): Promise<void> {
  const out: Writable = output === undefined ? process.stdout : createWriteStream(output);
  for (const line of lines) await writeLine(out, line);
  if (out !== process.stdout) {
    out.end();
    await once(out, 'finish');
  }
}

const count = (n: number): string => n.toLocaleString('fr-FR');

/** Runs an import from a command line already checked; answers the exit code. */
export async function runImport(job: ImportJob, file: string, values: CommandInput['values']): Promise<number> {
  const stdin = file === '-';
  const dryRun = values['dry-run'] === true;
  const resume = values.resume === true;
  const baseUrl = fhirBaseUrlOf(values);
  if (stdin && resume) throw new UsageError('usage-resume-stdin', "--resume demande un fichier : l'entrée standard ne se relit pas");
  if (!stdin) {
    try {
      await stat(file);
    } catch (error) {
      throw new UsageError('file-unreadable', `impossible de lire ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
  }

  const rejectsPath = stringOption(values, 'rejects') ?? (stdin ? 'stdin.rejects.ndjson' : `${file}.rejects.ndjson`);
  const checkpointPath = stdin ? undefined : checkpointPathOf(file);
  let resumeFrom: Checkpoint | undefined;
  if (resume && checkpointPath !== undefined) {
    resumeFrom = await readCheckpoint(checkpointPath);
    if (resumeFrom === undefined) warn('resume-no-checkpoint', `pas de point de reprise ${checkpointPath} : l'import part de la première ligne`);
    else if (resumeFrom.complete) {
      report('import-already-done', `${file} est déjà importé en entier (${checkpointPath})`);
      return resumeFrom.counts.rejected > 0 ? 1 : 0;
    } else {
      report('import-resumed', `reprise après la ligne ${count(resumeFrom.line)} (${count(resumeFrom.counts.imported)} ${job.noun} importé(e)s, ${count(resumeFrom.counts.rejected)} rejetée(s) avant)`);
      await trimRejects(rejectsPath, resumeFrom.line);
    }
  }

  let encoding = job.encoding;
  let total: number | undefined;
  if (!stdin) {
    // Read once before anything is written: a file refused for its bytes is refused whole.
    try {
      const survey = await surveyFile(file, { ...(encoding === undefined ? {} : { encoding }), utf8Only: job.format !== 'csv', onWarning: warn });
      total = survey.lines;
      encoding = survey.encoding;
    } catch (error) {
      if (!(error instanceof ImportFormatError)) throw error;
      report(error.code, `${file} : ${error.message}`);
      return 2;
    }
  }
  // FHIR: a record is a HealthcareService, not a line; the count is not known before the file is read.
  const dataLines = total === undefined || job.format === 'fhir' ? undefined : job.format === 'csv' ? Math.max(0, total - 1) : total;
  const progress =
    values.quiet === true
      ? undefined
      : new Progress({ tty: process.stderr.isTTY === true, write: (text) => process.stderr.write(text), ...(dataLines === undefined ? {} : { total: dataLines }), startedAt: (resumeFrom?.counts.imported ?? 0) + (resumeFrom?.counts.rejected ?? 0) });

  const store = baseUrl === undefined || dryRun ? undefined : new HapiStore({ baseUrl, timeoutMs: 120_000, retries: 2 });
  if (store !== undefined) {
    const ready = await store.ready();
    if (!ready.ok) {
      report('fhir-unavailable', `le serveur FHIR ${baseUrl} ne répond pas : ${ready.reason}`);
      return 2;
    }
  }

  const rejects: WriteStream = createWriteStream(rejectsPath, { flags: resumeFrom === undefined ? 'w' : 'a' });
  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) {
      report('import-killed', 'arrêt immédiat : le point de reprise reste où il était');
      process.exit(130);
    }
    report('import-stopping', 'arrêt : les lots en cours finissent, puis le point de reprise est écrit (Ctrl-C encore pour quitter tout de suite)');
    controller.abort();
  };
  process.on('SIGINT', onSigint);

  // Checkpoint writes are chained (never two at once) and at most one a second; the last is always written.
  let checkpointChain: Promise<void> = Promise.resolve();
  let lastWrite = 0;
  const saveCheckpoint = (line: number, counts: ImportCounts, complete: boolean, force = false): Promise<void> => {
    if (checkpointPath === undefined || dryRun) return Promise.resolve();
    const now = Date.now();
    if (!force && now - lastWrite < 1000) return Promise.resolve();
    lastWrite = now;
    const checkpoint: Checkpoint = { input: file, format: job.format, line, counts, complete, updatedAt: new Date(now).toISOString() };
    checkpointChain = checkpointChain.then(() => writeCheckpoint(checkpointPath, checkpoint));
    return checkpointChain;
  };

  const started = performance.now();
  const input: Readable = stdin ? process.stdin : createReadStream(file);
  let result: ImportResult;
  try {
    result = await job.engine(
      {
        records: recordsOf(input, job.format, { ...(encoding === undefined ? {} : { encoding }), onWarning: warn }),
        dryRun,
        signal: controller.signal,
        ...(resumeFrom === undefined ? {} : { resumeFrom: { line: resumeFrom.line, counts: resumeFrom.counts } }),
        requestId: `import-${Date.now().toString(36)}`,
        onReject: (reject) => writeLine(rejects, `${JSON.stringify(reject)}\n`),
        // The rejects of the lines up to the watermark must be on disk before the checkpoint says so.
        onWatermark: async (line, counts) => {
          if (Date.now() - lastWrite < 1000) return;
          await new Promise<void>((resolve, reject) => rejects.write('', (error) => (error ? reject(error) : resolve())));
          await saveCheckpoint(line, counts, false);
        },
        onProgress: (counts) => progress?.update(counts),
      },
      store,
    );
  } finally {
    process.off('SIGINT', onSigint);
    rejects.end();
    await once(rejects, 'close').catch(() => undefined);
  }
  progress?.end();
  await saveCheckpoint(result.watermark, result.watermarkCounts, result.status === 'done', true);

  const seconds = (performance.now() - started) / 1000;
  const { counts } = result;
  const thisRun = counts.imported - (resumeFrom?.counts.imported ?? 0);
  const outcome = result.status === 'done' ? ['import-done', 'import terminé'] : result.status === 'stopped' ? ['import-stopped', 'import arrêté'] : ['import-failed', 'import ÉCHOUÉ'];
  report(
    outcome[0] as string,
    `${outcome[1]}${dryRun ? ' (essai à blanc : rien écrit)' : ''} : ${count(counts.read)} lignes lues, ${count(counts.imported)} ${job.noun} ${dryRun ? 'valides' : 'importé(e)s'}, ${count(counts.rejected)} rejetée(s)` +
      ` en ${seconds.toLocaleString('fr-FR', { maximumFractionDigits: 1 })} s (${(thisRun / seconds).toLocaleString('fr-FR', { maximumFractionDigits: 1 })} ${job.noun}/s)`,
  );
  if (counts.rejected > 0) report('import-rejects', `les lignes rejetées, chacune avec son OperationOutcome : ${rejectsPath}`);
  if (result.status !== 'done' && checkpointPath !== undefined && !dryRun) {
    report('import-resume-hint', `toutes les lignes jusqu'à la ${count(result.watermark)}e sont faites ; pour continuer : telesante ${job.command} ${file} --resume`);
  }
  if (result.status === 'failed') {
    const error = result.error;
    if (error instanceof ImportFormatError) report(error.code, error.message);
    else report('import-fatal', `erreur fatale : ${error?.message ?? 'inconnue'}`);
    return 2;
  }
  if (result.status === 'stopped') return 130;
  return counts.rejected > 0 ? 1 : 0;
}
