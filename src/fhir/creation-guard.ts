// Two transactions that may create the same resource must not be on the FHIR server at once.
//
// A conditional create (POST with ifNoneExist) or a conditional update (PUT Type?identifier=…) that finds
// nothing creates the resource. Two such transactions in flight together both search, both find nothing,
// and HAPI keeps two resources with one identifier; every later write that names that identifier then
// fails for good (HAPI-2207, "Multiple resources match this search"). Seen in CI: an acts import, K
// transactions in flight, two acts of a new practitioner's role; the delivery worker (two batches in
// flight) and the offers engine can meet the same race.
//
// So a transaction waits while another one in flight in this process names one of its match URLs. A
// match URL that a transaction has written is known to match a resource from then on (the next
// conditional write updates it, it cannot create a second), and no longer makes anyone wait: after the
// first act of a structure, its organization, practitioners and roles are known, and only acts that
// really share something new (two acts of one new patient) go one after the other.
//
// It holds within one process. Two instances of the service, or an import beside the service, can still
// meet the race on the same new identifier at the same moment; the README says so.
import type { Bundle } from '@medplum/fhirtypes';

/** How many match URLs known to exist are kept (the oldest forgotten first): a few megabytes. */
const KNOWN_LIMIT = 50_000;

/** The match URLs of a transaction's conditional creates and updates, as `Type?criteria`. */
export function matchUrls(bundle: Bundle): string[] {
  const urls = new Set<string>();
  for (const entry of bundle.entry ?? []) {
    const request = entry.request;
    if (request === undefined) continue;
    if (request.method === 'POST' && request.ifNoneExist !== undefined) {
      const criteria = request.ifNoneExist.includes('?') ? request.ifNoneExist.slice(request.ifNoneExist.indexOf('?') + 1) : request.ifNoneExist;
      urls.add(`${request.url.split('?')[0] ?? request.url}?${criteria}`);
    } else if (request.method === 'PUT' && request.url.includes('?')) {
      urls.add(request.url);
    }
  }
  return [...urls];
}

export class CreationGuard {
  /** The transaction in flight that may create each match URL's resource. */
  readonly #inFlight = new Map<string, Promise<unknown>>();
  /** Match URLs written by a transaction that succeeded, oldest first. */
  readonly #known = new Set<string>();

  /** Runs `write` once no transaction in flight may create what `bundle` names by a match URL. */
  async run<T>(bundle: Bundle, write: () => Promise<T>): Promise<T> {
    let urls = matchUrls(bundle).filter((url) => !this.#known.has(url));
    for (;;) {
      const holders = new Set(urls.map((url) => this.#inFlight.get(url)).filter((holder) => holder !== undefined));
      if (holders.size === 0) break;
      await Promise.allSettled(holders);
      urls = urls.filter((url) => !this.#known.has(url));
    }
    // No await between the check above and this: no other transaction can take these URLs meanwhile.
    const running = write();
    for (const url of urls) this.#inFlight.set(url, running);
    try {
      const result = await running;
      for (const url of urls) this.#remember(url);
      return result;
    } finally {
      for (const url of urls) if (this.#inFlight.get(url) === running) this.#inFlight.delete(url);
    }
  }

  #remember(url: string): void {
    this.#known.delete(url);
    this.#known.add(url);
    if (this.#known.size > KNOWN_LIMIT) this.#known.delete(this.#known.values().next().value as string);
  }
}
