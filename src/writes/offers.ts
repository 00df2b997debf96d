// What an offer's messages do to the FHIR store: publish it (kind `offer`) and withdraw it
// (`offer-withdraw`). An offer published alone is a batch of one for the import engine's first steps
// (mapOffers: what is stored read in one search, the roles by _revinclude; the mapping over it), then
// the same gate and one transaction. "now" is when the message was accepted.
import type { Bundle, BundleEntry } from '@medplum/fhirtypes';
import { asStored, referencesOf } from '../fhir/index.ts';
import type { FhirStore } from '../fhir/index.ts';
import type { Validator } from '../fhir/validation/index.ts';
import { offerSearch, withdrawOffer } from '../mapping/index.ts';
import type { Offer, OfferIssue } from '../model/offer.ts';
import { NotFound, problemsOfIssues } from '../problems.ts';
import { mapOffers, readStoredOffers } from '../import/index.ts';
import type { MappedOffer } from '../import/index.ts';
import type { WriteHandler } from './message.ts';

export interface OfferMessage {
  readonly offer: Offer;
  readonly warnings: readonly { code: string; field: string; message: string }[];
}

export interface WithdrawalMessage {
  readonly offerId: string;
}

/** The business key of an offer's messages. */
export const offerKey = (offerId: string): string => `offer|${offerId}`;

/** The problems of an offer's rule findings (errors invalid, warnings informational). */
export const problemsOfOfferIssues = (issues: readonly OfferIssue[]) => problemsOfIssues(issues, 'invalid');

export function unknownOffer(offerId: string): NotFound {
  return new NotFound({ code: 'not-found', expression: 'offerId', message: `Aucune offre publiée sous l'identifiant ${offerId}.`, diagnostics: 'unknown offer' });
}

function serviceEntryOf(response: Bundle): BundleEntry | undefined {
  return response.entry?.find((entry) => entry.response?.location?.startsWith('HealthcareService/'));
}

export interface OfferWritesOptions {
  readonly store: FhirStore;
  readonly validator: Validator;
}

export function offerWrites({ store, validator }: OfferWritesOptions): Record<'offer' | 'offer-withdraw', WriteHandler> {
  return {
    offer: async (message, ctx) => {
      const { offer, warnings } = message.payload as OfferMessage;
      const now = new Date(message.receivedAt);
      const [{ stored, bundle }] = (await mapOffers([offer], now, store, ctx)) as [MappedOffer];
      validator.assertValid(asStored(bundle, now));
      const response = await store.transaction(bundle, ctx);
      const created = stored.service === undefined && (serviceEntryOf(response)?.response?.status ?? '').startsWith('201');
      return { status: created ? 201 : 200, body: { identifiantOffre: offer.identifiantOffre, created, references: referencesOf(response), warnings } };
    },

    'offer-withdraw': async (message, ctx) => {
      const { offerId } = message.payload as WithdrawalMessage;
      const { service } = (await readStoredOffers(store, [offerId], ctx)).get(offerId) ?? {};
      if (!service?.id) throw unknownOffer(offerId);
      const withdrawn = withdrawOffer(service);
      validator.assertValid(asStored(withdrawn, new Date(message.receivedAt)));
      const response = await store.transaction(
        {
          resourceType: 'Bundle',
          type: 'transaction',
          entry: [{ resource: withdrawn, request: { method: 'PUT', url: `HealthcareService?${offerSearch(offerId)}` } }],
        },
        ctx,
      );
      return { status: 200, body: { identifiantOffre: offerId, active: false, references: referencesOf(response) } };
    },
  };
}
