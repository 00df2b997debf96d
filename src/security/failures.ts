// Anonymous and failed-authentication traffic, per address, BEFORE authentication: a budget lower than a
// client's (RATE_LIMIT_ANONYMOUS_PER_MINUTE), past which an address gets 429 without its credentials even
// being looked at (key guessing stops there), and an audit trail kept in aggregate: one AuditEvent per
// address and time window, with its counts, never one per request (anyone could otherwise grow the audit
// store at will).
import type { AuditEvent } from '@medplum/fhirtypes';

const AUDIT_EVENT_TYPE = 'http://dicom.nema.org/resources/ontology/DCM';
const SOURCE_TYPE = 'http://terminology.hl7.org/CodeSystem/security-source-type';
/** The table of addresses never grows past this: the oldest window is closed (and reported) to make room. */
const MAX_ADDRESSES = 100_000;

interface Window {
  readonly start: number;
  /** Requests of the window that failed authentication (401). */
  failed: number;
  /** Requests of the window refused before authentication (429). */
  throttled: number;
}

export interface FailureWindow {
  readonly address: string;
  readonly start: number;
  readonly end: number;
  readonly failed: number;
  readonly throttled: number;
}

/**
 * Fixed windows of `windowMs` per address. `allows` answers before authentication; `failed` counts a 401.
 * Closed windows are handed to `onClosed` (the aggregate AuditEvent) by `flush`.
 */
export class FailureBudget {
  readonly #max: number;
  readonly #windowMs: number;
  readonly #windows = new Map<string, Window>();

  constructor(maxPerWindow: number, windowMs: number) {
    this.#max = maxPerWindow;
    this.#windowMs = windowMs;
  }

  get max(): number {
    return this.#max;
  }

  #window(address: string, now: number, closed: FailureWindow[]): Window {
    const start = now - (now % this.#windowMs);
    const current = this.#windows.get(address);
    if (current !== undefined && current.start === start) return current;
    if (current !== undefined) closed.push(this.#closed(address, current));
    if (this.#windows.size >= MAX_ADDRESSES && current === undefined) {
      // The oldest entry (Map keeps insertion order) makes room; its counts are reported, not lost.
      const [oldest] = this.#windows;
      if (oldest !== undefined) {
        this.#windows.delete(oldest[0]);
        closed.push(this.#closed(oldest[0], oldest[1]));
      }
    }
    const fresh: Window = { start, failed: 0, throttled: 0 };
    this.#windows.delete(address);
    this.#windows.set(address, fresh);
    return fresh;
  }

  #closed(address: string, window: Window): FailureWindow {
    return { address, start: window.start, end: window.start + this.#windowMs, failed: window.failed, throttled: window.throttled };
  }

  /** Seconds until the address may try again, or 0 when it is within its budget (a throttled request counts). */
  retryAfterS(address: string, now: number, closed: FailureWindow[]): number {
    if (this.#max <= 0) return 0;
    const window = this.#window(address, now, closed);
    if (window.failed < this.#max) return 0;
    window.throttled++;
    return Math.max(1, Math.ceil((window.start + this.#windowMs - now) / 1000));
  }

  failed(address: string, now: number, closed: FailureWindow[]): void {
    this.#window(address, now, closed).failed++;
  }

  /** The windows that ended before `now` (all of them with `all`), taken out of the table. */
  flush(now: number, all = false): FailureWindow[] {
    const closed: FailureWindow[] = [];
    for (const [address, window] of this.#windows) {
      if (!all && window.start + this.#windowMs > now) continue;
      this.#windows.delete(address);
      if (window.failed + window.throttled > 0) closed.push(this.#closed(address, window));
    }
    return closed;
  }
}

/** The one AuditEvent of an address's failed authentications over a window: counts, never a credential. */
export function failureAuditEvent(window: FailureWindow, recorded: Date): AuditEvent {
  const total = window.failed + window.throttled;
  return {
    resourceType: 'AuditEvent',
    type: { system: AUDIT_EVENT_TYPE, code: '110114', display: 'User Authentication' },
    subtype: [{ system: AUDIT_EVENT_TYPE, code: '110122', display: 'Login' }],
    action: 'E',
    period: { start: new Date(window.start).toISOString(), end: new Date(window.end).toISOString() },
    recorded: recorded.toISOString(),
    outcome: '4',
    outcomeDesc: `${total} failed authentication(s) from ${window.address}: ${window.failed} refused (401), ${window.throttled} throttled before authentication (429)`,
    agent: [{ who: { display: '(unauthenticated)' }, requestor: true, network: { address: window.address, type: '2' } }],
    source: { site: 'telesante-fhir', observer: { display: 'telesante-fhir' }, type: [{ system: SOURCE_TYPE, code: '4', display: 'Application Server' }] },
    entity: [
      {
        what: { display: 'failed authentications, in aggregate' },
        detail: [
          { type: 'failed-authentications', valueString: String(window.failed) },
          { type: 'throttled', valueString: String(window.throttled) },
          { type: 'window-start', valueString: new Date(window.start).toISOString() },
          { type: 'window-end', valueString: new Date(window.end).toISOString() },
        ],
      },
    ],
  };
}
