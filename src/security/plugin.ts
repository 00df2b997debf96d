// The security face of the service, in one place: who calls (credentials.ts), whether the route lets
// them (the scope every /v1 route declares in its config), how often (rate limit per client), which
// headers every answer carries (helmet), and what the audit trail keeps of every write (audit.ts).
import { randomUUID } from 'node:crypto';
import helmet from '@fastify/helmet';
import type { AuditEvent, OperationOutcome } from '@medplum/fhirtypes';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AccessDenied, AuthenticationFailed, TooManyRequests } from '../problems.ts';
import type { DeliveryService } from '../delivery/index.ts';
import { outcomeSummary } from '../fhir/index.ts';
import type { FhirStore } from '../fhir/index.ts';
import { auditedAccess, auditEventOf } from './audit.ts';
import { ANONYMOUS } from './credentials.ts';
import { failureAuditEvent, FailureBudget } from './failures.ts';
import type { FailureWindow } from './failures.ts';
import type { Authenticator, Principal, Scope } from './credentials.ts';

/**
 * What a route asks of its caller: one scope, any of several, `authenticated` (valid credentials, no
 * particular scope) or `public` (nothing). Every route under /v1 must say.
 */
export type RouteAccess = Scope | readonly Scope[] | 'authenticated' | 'public';

export interface SecurityOptions {
  /** Undefined in development mode (AUTH_MODE=none): every caller is the anonymous client. */
  readonly authenticator: Authenticator | undefined;
  readonly rateLimitPerMinute: number;
  /** Requests without valid credentials per address and window, checked before authentication; 0: no limit. */
  readonly anonymousLimit: number;
  /** That window, also the period of the aggregate AuditEvent of failed authentications. */
  readonly anonymousWindowMs: number;
  readonly deliveries: DeliveryService;
  /** Where the AuditEvents go: the service's FHIR store. */
  readonly store: FhirStore;
  readonly clock: () => Date;
  /** Audit records are due on a grid of this step (ms): those of one step go to the store together. */
  readonly auditFlushMs?: number;
}

/** Audit records in one transaction at most: small resources, many of them. */
const AUDIT_BATCH_SIZE = 100;

function scopesOf(access: RouteAccess): readonly Scope[] | undefined {
  if (access === 'authenticated' || access === 'public') return undefined;
  return typeof access === 'string' ? [access as Scope] : (access as readonly Scope[]);
}

/** Reading every act (acts:read:all) includes what acts:read opens (the indicators, the acts of one's structures). */
function hasScope(principal: Principal, scope: Scope): boolean {
  return principal.scopes.has(scope) || (scope === 'acts:read' && principal.scopes.has('acts:read:all'));
}

/** Throws the 403 a client bound to some structures gets for a structure outside them. */
export function assertStructureAllowed(principal: Principal | null, finess: string | undefined, expression: string): void {
  if (principal?.finess === undefined) return;
  if (finess !== undefined && principal.finess.includes(finess)) return;
  throw new AccessDenied({
    expression,
    message:
      finess === undefined
        ? `Ce client n'écrit que pour les structures ${principal.finess.join(', ')} : l'objet doit nommer la structure (FINESS).`
        : `Ce client n'écrit que pour les structures ${principal.finess.join(', ')}, pas pour ${finess}.`,
    diagnostics: 'FINESS not allowed for this client',
  });
}

/** Installs authentication, scopes, rate limits, security headers and the audit trail (before the routes). */
export async function registerSecurity(app: FastifyInstance, options: SecurityOptions): Promise<void> {
  const { authenticator, deliveries, store, clock } = options;
  const flushMs = options.auditFlushMs ?? 0;
  // Every request makes an audit record, which nobody waits for: due at the next step of a grid, the
  // records of a step go to the FHIR server as one transaction, instead of one small transaction beside
  // each act (which cost HAPI as much as merging the acts saved). Durable in the outbox meanwhile.
  const auditDueAt = (): number | undefined => (flushMs === 0 ? undefined : Math.ceil((clock().getTime() + 1) / flushMs) * flushMs);
  const submitAudit = (payload: AuditEvent, requestId?: string) => {
    const notBefore = auditDueAt();
    return deliveries.submit({
      kind: 'audit',
      key: `audit|${randomUUID()}`,
      payload,
      receivedAt: clock().toISOString(),
      ...(requestId !== undefined ? { requestId } : {}),
      ...(notBefore !== undefined ? { notBefore } : {}),
    });
  };
  app.decorateRequest('principal', null);

  // A /v1 route that forgot to declare its access fails the start, rather than being open by mistake.
  app.addHook('onRoute', (route) => {
    if (!route.url.startsWith('/v1')) return;
    const access = (route.config as { access?: RouteAccess } | undefined)?.access;
    if (access === undefined) throw new Error(`route ${String(route.method)} ${route.url} declares no access (config.access)`);
  });

  // Failed authentications: a budget per address that runs before authentication, and one AuditEvent per
  // address and window (failures.ts), submitted when the window closes and at shutdown.
  const failures = new FailureBudget(options.anonymousLimit, options.anonymousWindowMs);
  const auditFailures = async (closed: readonly FailureWindow[]): Promise<void> => {
    for (const window of closed) {
      app.log.warn({ audit: { address: window.address, failed: window.failed, throttled: window.throttled, start: new Date(window.start).toISOString() } }, 'failed authentications audited');
      try {
        await submitAudit(failureAuditEvent(window, clock()));
      } catch (error) {
        app.log.error({ err: { message: (error as Error).message } }, 'audit: the failed authentications could not be stored in the outbox');
      }
    }
  };
  const flushTimer = setInterval(() => void auditFailures(failures.flush(Date.now())), options.anonymousWindowMs);
  flushTimer.unref();
  app.addHook('preClose', async () => {
    clearInterval(flushTimer);
    await auditFailures(failures.flush(Date.now(), true));
  });

  app.addHook('onRequest', async (request) => {
    const access = request.routeOptions.config.access;
    if (access === undefined || access === 'public') return;
    if (authenticator === undefined) {
      request.principal = ANONYMOUS;
      return;
    }
    const closed: FailureWindow[] = [];
    const retryAfterS = failures.retryAfterS(request.ip, Date.now(), closed);
    if (retryAfterS > 0) {
      request.authenticationFailed = true;
      void auditFailures(closed);
      throw new TooManyRequests(failures.max, retryAfterS, {
        code: 'throttled',
        expression: 'header.authorization',
        message: `Trop de requêtes sans authentification valide depuis cette adresse : au plus ${failures.max} par ${Math.round(options.anonymousWindowMs / 1000)} s ; réessayez dans ${retryAfterS} s.`,
        diagnostics: 'rate limit of unauthenticated traffic per address',
      });
    }
    let principal: Principal;
    try {
      principal = await authenticator.authenticate(request.headers);
    } catch (error) {
      if (error instanceof AuthenticationFailed) {
        request.authenticationFailed = true;
        failures.failed(request.ip, Date.now(), closed);
      }
      void auditFailures(closed);
      throw error;
    }
    request.principal = principal;
    const scopes = scopesOf(access);
    if (scopes !== undefined && !scopes.some((scope) => hasScope(principal, scope))) {
      throw new AccessDenied(
        { expression: 'header.authorization', message: `Ce client n'a pas le droit d'utiliser cette route : il lui faut la portée ${scopes.join(' ou ')}.`, diagnostics: 'insufficient scope' },
        scopes,
      );
    }
  });

  await app.register(helmet, {
    global: true,
    // An API answers JSON; the two HTML pages (/docs, /dashboard) set their own policy. Upgrading
    // requests is HSTS's job when the service speaks HTTPS: on plain HTTP it would break the pages.
    contentSecurityPolicy: {
      useDefaults: true,
      directives: { 'upgrade-insecure-requests': null, 'frame-ancestors': ["'none'"], 'form-action': ["'self'"] },
    },
    crossOriginEmbedderPolicy: false,
  });

  if (options.rateLimitPerMinute > 0) {
    const max = options.rateLimitPerMinute;
    await app.register(rateLimit, {
      global: true,
      max,
      timeWindow: 60_000,
      // Runs after authentication (a route-level hook, after the instance's): a client is counted as
      // itself wherever it calls from; the anonymous by address.
      keyGenerator: (request: FastifyRequest) => (request.principal !== null && request.principal.method !== 'none' ? `client:${request.principal.clientId}` : `ip:${request.ip}`),
      allowList: (request: FastifyRequest) => request.routeOptions.url === '/health' || request.routeOptions.url === '/ready',
      errorResponseBuilder: (_request, context) => new TooManyRequests(context.max, Math.max(1, Math.ceil(context.ttl / 1000))),
    });
  }

  // The audit trail: one AuditEvent per write and per read of personal health data, through the outbox
  // (durable, retried like any write), and one log line without personal data. After the answer: the
  // client never waits for it.
  // Several AuditEvents due at once go in one transaction (group commit, as acts do).
  deliveries.handleBatch('audit', async (batch, ctx) => {
    // The delivery id is the AuditEvent's id: a redelivery after a crash writes the same one again.
    await store.transaction(
      {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: batch.map((delivery) => ({
          resource: { ...(delivery.payload as AuditEvent), resourceType: 'AuditEvent' as const, id: delivery.id },
          request: { method: 'PUT' as const, url: `AuditEvent/${delivery.id}` },
        })),
      },
      ctx,
    );
    return batch.map((delivery) => ({ answer: { status: 201, body: { auditEvent: `AuditEvent/${delivery.id}` } } }));
  }, AUDIT_BATCH_SIZE);

  app.addHook('onSend', async (request, reply, payload) => {
    if (auditedAccess(request) === undefined || typeof payload !== 'string') return payload;
    // A write refused at its delivery (the dead letter's id in the answer): why, in the AuditEvent.
    if (reply.statusCode >= 400) {
      if (reply.getHeader('x-delivery-id') !== undefined) request.auditRefusal = refusalIn(payload);
      return payload;
    }
    if (reply.statusCode >= 300) return payload;
    // The references the write produced or the read disclosed (never the content): read back from the answer.
    try {
      request.auditReferences = [...new Set([...(request.auditReferences ?? []), ...referencesIn(JSON.parse(payload) as unknown)])];
    } catch {
      // not JSON: nothing to add
    }
    return payload;
  });

  app.addHook('onResponse', async (request, reply) => {
    const access = auditedAccess(request);
    // A failed authentication is in the aggregate of its address and window, not an event of its own.
    if (access === undefined || request.authenticationFailed === true) return;
    const principal = request.principal;
    const status = reply.statusCode;
    request.log.info(
      { audit: { client: principal?.clientId ?? '(unauthenticated)', method: request.method, route: request.routeOptions.url, status } },
      `${access} audited`,
    );
    const deliveryId = reply.getHeader('x-delivery-id');
    const event = auditEventOf({
      request,
      principal,
      status,
      recorded: clock(),
      references: request.auditReferences ?? [],
      ...(typeof deliveryId === 'string' ? { deliveryId } : {}),
      ...(request.auditRefusal === undefined ? {} : { refusal: request.auditRefusal }),
    });
    try {
      await submitAudit(event, String(request.id));
    } catch (error) {
      request.log.error({ err: { message: (error as Error).message } }, 'audit: the record could not be stored in the outbox');
    }
  });
}

const REFERENCE = /^[A-Za-z]+\/[A-Za-z0-9.-]{1,64}$/;

/** The short text of the OperationOutcome a refused write answered (the FHIR server's reasons, with their expressions). */
function refusalIn(payload: string): string | undefined {
  try {
    const outcome = JSON.parse(payload) as OperationOutcome;
    return outcome.resourceType === 'OperationOutcome' ? outcomeSummary(outcome) || undefined : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The `Type/id` references an answer names: `references` (a write, one act), `reference` of each listed
 * act (a search), or the resources of a FHIR Bundle (one act with Accept: application/fhir+json).
 */
function referencesIn(answer: unknown): string[] {
  if (answer === null || typeof answer !== 'object') return [];
  const { references, acts, resourceType, entry } = answer as { references?: unknown; acts?: unknown; resourceType?: unknown; entry?: unknown };
  const found: unknown[] = [];
  if (Array.isArray(references)) found.push(...(references as unknown[]));
  if (Array.isArray(acts)) for (const act of acts as unknown[]) if (act !== null && typeof act === 'object') found.push((act as { reference?: unknown }).reference);
  if (resourceType === 'Bundle' && Array.isArray(entry)) {
    for (const item of entry as { resource?: { resourceType?: unknown; id?: unknown } }[]) found.push(`${String(item.resource?.resourceType)}/${String(item.resource?.id)}`);
  }
  return found.filter((r): r is string => typeof r === 'string' && REFERENCE.test(r));
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is calling; null on public routes and before authentication. */
    principal: Principal | null;
    auditReferences?: string[];
    /** Why the FHIR server refused the write at its delivery, for the AuditEvent's outcomeDesc. */
    auditRefusal?: string;
    /** Refused before or by authentication: counted in the aggregate of failed authentications. */
    authenticationFailed?: boolean;
  }
  interface FastifyContextConfig {
    access?: RouteAccess;
    /** GET answers disclose personal health data: each one leaves an AuditEvent, as a write does. */
    auditReads?: boolean;
  }
}
