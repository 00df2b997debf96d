// Bulk import (the ROR's "peuplement": filling the directory in bulk, issue 8). Streams offers from
// NDJSON or CSV, checks each line as POST /v1/offers does, writes them in merged transactions, K at a
// time, resumable (synthetic offers to feed it are in synthetic/). The command line (cli/offers.ts) and the HTTP jobs
// (api/jobs.ts) are two faces of the same engine.
export { importActs } from './acts.ts';
export type { ActImportOptions } from './acts.ts';
export { DEFAULT_BATCH_SIZE, DEFAULT_CONCURRENCY, importOffers, mapOffers, outcomeOfOfferIssues, readStoredOffers } from './engine.ts';
export type { ImportOptions, ImportReject, ImportResult, MappedOffer, StoredOffer } from './engine.ts';
export type { ImportCounts } from './counts.ts';
export { checkpointPathOf, readCheckpoint, Watermark, writeCheckpoint } from './checkpoint.ts';
export type { Checkpoint } from './checkpoint.ts';
export { formatOfPath, IMPORT_FORMATS, ImportFormatError, recordsOf } from './source.ts';
export type { ImportFormat, ImportRecord, ReadOptions } from './source.ts';
export { decodeBytes, ENCODINGS, surveyFile } from './encoding.ts';
export type { Encoding } from './encoding.ts';
export { cellsOf, columnOfField, csvHeader, GROUP_COLUMNS, headerOf, OFFER_COLUMNS, offerOfRow, quoteCell, rowOfOffer, separatorOf } from './csv.ts';
export { Progress, progressLine } from './progress.ts';
