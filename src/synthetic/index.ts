// Synthetic data for tests, benchmarks and demonstrations: realistic, valid, deterministic for a seed.
// Offers (telesante offers generate) and a year of acts (telesante acts generate).
export { generateActs, syntheticStructures } from './acts.ts';
export type { ActGenerateOptions, SyntheticStructure } from './acts.ts';
export { generatedOffer, generateOffers, offerStructures, OFFERS_PER_STRUCTURE } from './offers.ts';
export type { OfferGenerateOptions } from './offers.ts';
