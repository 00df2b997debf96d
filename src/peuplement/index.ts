// Peuplement: filling the directory in bulk (issue 8). Streams offers from NDJSON or CSV, checks each
// line as POST /v1/offers does, writes them in merged transactions, K at a time, resumable (synthetic
// offers to feed it are in synthetic/). The command line (cli/offers.ts) and the HTTP jobs
// (api/jobs.ts) are two faces of the same engine.
export { DEFAULT_BATCH_SIZE, DEFAULT_CONCURRENCY, importOffers, outcomeOfOfferIssues } from './engine.ts';
export type { ImportCounts, ImportOptions, ImportReject, ImportResult } from './engine.ts';
export { checkpointPathOf, readCheckpoint, Watermark, writeCheckpoint } from './checkpoint.ts';
export type { Checkpoint } from './checkpoint.ts';
export { mergeTransactions } from './merge.ts';
export { formatOfPath, IMPORT_FORMATS, ImportFormatError, recordsOf } from './source.ts';
export type { ImportFormat, ImportRecord } from './source.ts';
export { cellsOf, columnOfField, csvHeader, GROUP_COLUMNS, headerOf, OFFER_COLUMNS, offerOfRow, quoteCell, rowOfOffer } from './csv.ts';
export { Progress, progressLine } from './progress.ts';
