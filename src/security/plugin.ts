// The security face of the service, in one place: who calls (credentials.ts), whether the route lets
// them (the scope every /v1 route declares in its config), how often (rate limit per client), which
// headers every answer carries (helmet), and what the audit trail keeps of every write (audit.ts).
import { randomUUID } from 'node:crypto';
import helmet from '@fastify/helmet';
import type { AuditEvent } from '@medplum/fhirtypes';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AccessDenied, tooManyRequests } from '../api/errors.ts';
import type { DeliveryService } from '../delivery/index.ts';
import type { FhirStore } from '../fhir/index.ts';
import { auditedAccess, auditEventOf } from './audit.ts';
import { ANONYMOUS } from './credentials.ts';
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
  readonly deliveries: DeliveryService;
  /** Where the AuditEvents go: the service's FHIR store. */
  readonly store: FhirStore;
  readonly clock: () => Date;
}

function scopesOf(access: RouteAccess): readonly Scope[] | undefined {
  if (access === 'authenticated' || access === 'public') return undefined;
  return typeof access === 'string' ? [access as Scope] : (access as readonly Scope[]);
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
  app.decorateRequest('principal', null);

  // A /v1 route that forgot to declare its access fails the start, rather than being open by mistake.
  app.addHook('onRoute', (route) => {
    if (!route.url.startsWith('/v1')) return;
    const access = (route.config as { access?: RouteAccess } | undefined)?.access;
    if (access === undefined) throw new Error(`route ${String(route.method)} ${route.url} declares no access (config.access)`);
  });

  app.addHook('onRequest', async (request) => {
    const access = request.routeOptions.config.access;
    if (access === undefined || access === 'public') return;
    if (authenticator === undefined) {
      request.principal = ANONYMOUS;
      return;
    }
    const principal = await authenticator.authenticate(request.headers);
    request.principal = principal;
    const scopes = scopesOf(access);
    if (scopes !== undefined && !scopes.some((scope) => principal.scopes.has(scope))) {
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
      errorResponseBuilder: (_request, context) => tooManyRequests(context.max, Math.max(1, Math.ceil(context.ttl / 1000))),
    });
  }

  // The audit trail: one AuditEvent per write and per read of personal health data, through the outbox
  // (durable, retried like any write), and one log line without personal data. After the answer: the
  // client never waits for it.
  deliveries.handle('audit', async (delivery, ctx) => {
    const event = delivery.payload as AuditEvent;
    // The delivery id is the AuditEvent's id: a redelivery after a crash writes the same one again.
    await store.transaction(
      { resourceType: 'Bundle', type: 'transaction', entry: [{ resource: { ...event, resourceType: 'AuditEvent', id: delivery.id }, request: { method: 'PUT', url: `AuditEvent/${delivery.id}` } }] },
      ctx,
    );
    return { status: 201, body: { auditEvent: `AuditEvent/${delivery.id}` } };
  });

  app.addHook('onSend', async (request, reply, payload) => {
    if (auditedAccess(request) === undefined || reply.statusCode >= 300 || typeof payload !== 'string') return payload;
    // The references the write produced or the read disclosed (never the content): read back from the answer.
    try {
      request.auditReferences = referencesIn(JSON.parse(payload) as unknown);
    } catch {
      // not JSON: nothing to add
    }
    return payload;
  });

  app.addHook('onResponse', async (request, reply) => {
    const access = auditedAccess(request);
    if (access === undefined) return;
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
    });
    try {
      await deliveries.submit({ kind: 'audit', key: `audit|${randomUUID()}`, payload: event, receivedAt: clock().toISOString(), requestId: String(request.id) });
    } catch (error) {
      request.log.error({ err: { message: (error as Error).message } }, 'audit: the record could not be stored in the outbox');
    }
  });
}

const REFERENCE = /^[A-Za-z]+\/[A-Za-z0-9.-]{1,64}$/;

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
  }
  interface FastifyContextConfig {
    access?: RouteAccess;
    /** GET answers disclose personal health data: each one leaves an AuditEvent, as a write does. */
    auditReads?: boolean;
  }
}
