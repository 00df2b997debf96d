// Read access follows care. A client reads the acts one of its structures (its FINESS binding) takes part
// in: as the service provider, a performer's structure or the requester's. Every act only with the
// `acts:read:all` scope, given explicitly (analysts of a regional health agency); a client bound to no
// structure and without that scope reads none. A delivery or an import job is read by the client that
// submitted it, or with `deliveries:admin`.
import { AccessDenied } from '../problems.ts';
import type { Principal } from './credentials.ts';

/** Every act, or only those these structures take part in (none: an empty list). */
export type ReadableActs = 'all' | readonly string[];

export function readableActs(principal: Principal | null): ReadableActs {
  if (principal === null) return [];
  if (principal.scopes.has('acts:read:all')) return 'all';
  return principal.finess ?? [];
}

/** Throws the 403 a client gets for an act none of its structures takes part in. */
export function assertActReadable(principal: Principal | null, structures: readonly string[]): void {
  const readable = readableActs(principal);
  if (readable === 'all' || structures.some((finess) => readable.includes(finess))) return;
  throw new AccessDenied({
    expression: 'actId',
    message:
      readable.length === 0
        ? "Ce client n'est lié à aucune structure (FINESS) : il ne lit aucun acte. La lecture de tous les actes demande la portée acts:read:all."
        : `Ce client ne lit que les actes auxquels ses structures (${readable.join(', ')}) prennent part ; aucune ne prend part à celui-ci.`,
    diagnostics: 'act outside the structures of this client',
  });
}

/** Throws the 403 a client gets for a delivery (or an import job) another client submitted. */
export function assertSubmittedBy(principal: Principal | null, submittedBy: string | undefined, what: 'delivery' | 'job'): void {
  if (principal?.scopes.has('deliveries:admin') === true) return;
  if (principal !== null && submittedBy !== undefined && submittedBy === principal.clientId) return;
  throw new AccessDenied({
    expression: 'id',
    message:
      what === 'job'
        ? "Cet import a été soumis par un autre client : seul celui-ci, ou un administrateur (portée deliveries:admin), peut le suivre."
        : "Cette écriture a été soumise par un autre client : seul celui-ci, ou un administrateur (portée deliveries:admin), peut la suivre.",
    diagnostics: `${what} submitted by another client`,
  });
}
