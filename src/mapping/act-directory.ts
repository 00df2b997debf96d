// The directory entries an act names: Organizations (FINESS), Practitioners (idNatPs) and their
// PractitionerRoles (one exercise situation per professional), each written once per Bundle.
import type { Organization, Practitioner, PractitionerRole } from '@medplum/fhirtypes';
import type { ActProfessional } from '../model/act.ts';
import { ACT_ROLE_IDENTIFIER_SYSTEM, PROFESSION_CODE, roleValue } from './act-coding.ts';
import { CODE_SETS } from './codes/index.ts';
import { FINESS_SYSTEM, FR_CORE_IDENTIFIER_TYPE, FR_CORE_ORGANIZATION, FR_CORE_PRACTITIONER, FR_CORE_PRACTITIONER_ROLE, ID_NAT_PS_SYSTEM, ID_NAT_ST_SYSTEM, RPPS_SYSTEM } from './fr-core.ts';
import { identifierQuery } from './keys.ts';
import { createOnce, put, ref } from './transaction.ts';
import type { Ref, Write } from './transaction.ts';

export function displayName(p: ActProfessional): string {
  return p.givenName === undefined ? p.familyName : `${p.givenName} ${p.familyName}`;
}

function organizationOf(finess: string, name: string | undefined): Organization {
  const organization: Organization = {
    resourceType: 'Organization',
    meta: { profile: [FR_CORE_ORGANIZATION] },
    identifier: [
      { use: 'official', type: { coding: [{ system: FR_CORE_IDENTIFIER_TYPE, code: 'FINEG', display: "FINESS d'entité géographique" }] }, system: FINESS_SYSTEM, value: finess },
      // idNatSt prefix 1 = FINESS.
      { use: 'official', type: { coding: [{ system: FR_CORE_IDENTIFIER_TYPE, code: 'IDNST', display: 'Identification nationale de structure' }] }, system: ID_NAT_ST_SYSTEM, value: `1${finess}` },
    ],
  };
  if (name !== undefined) organization.name = name;
  return organization;
}

function practitionerOf(p: ActProfessional): Practitioner {
  return {
    resourceType: 'Practitioner',
    meta: { profile: [FR_CORE_PRACTITIONER] },
    identifier: [
      { use: 'official', type: { coding: [{ system: FR_CORE_IDENTIFIER_TYPE, code: 'IDNPS', display: 'Identifiant National de Professionnel de Santé' }] }, system: ID_NAT_PS_SYSTEM, value: `8${p.rpps}` },
      { use: 'official', type: { coding: [{ system: FR_CORE_IDENTIFIER_TYPE, code: 'RPPS', display: 'N° RPPS' }] }, system: RPPS_SYSTEM, value: p.rpps },
    ],
    name: [{ family: p.familyName, ...(p.givenName === undefined ? {} : { given: [p.givenName] }) }],
  };
}

export interface Directory {
  readonly writes: Write[];
  /** PractitionerRole write by RPPS (one exercise situation per professional in an act). */
  readonly roles: Map<string, Write>;
  readonly organizations: Map<string, Write>;
}

export function directoryOf(professionals: readonly ActProfessional[]): Directory {
  const organizations = new Map<string, Write>();
  const practitioners = new Map<string, Write>();
  const roles = new Map<string, Write>();
  for (const p of professionals) {
    if (p.finess !== undefined && !organizations.has(p.finess)) {
      organizations.set(p.finess, createOnce(organizationOf(p.finess, p.structureName), identifierQuery(FINESS_SYSTEM, p.finess)));
    }
    if (!practitioners.has(p.rpps)) practitioners.set(p.rpps, createOnce(practitionerOf(p), identifierQuery(ID_NAT_PS_SYSTEM, `8${p.rpps}`)));
  }
  for (const p of professionals) {
    if (roles.has(p.rpps)) continue;
    const practitioner = practitioners.get(p.rpps);
    const organization = p.finess === undefined ? undefined : organizations.get(p.finess);
    const key = roleValue(p.rpps, p.finess);
    const g15 = CODE_SETS.profession;
    const code = PROFESSION_CODE[p.profession];
    const role: PractitionerRole = {
      resourceType: 'PractitionerRole',
      meta: { profile: [FR_CORE_PRACTITIONER_ROLE] },
      identifier: [{ system: ACT_ROLE_IDENTIFIER_SYSTEM, value: key }],
      active: true,
      code: [{ coding: [{ system: g15.system, code, display: g15.concepts[code]?.display ?? code }] }],
    };
    if (practitioner !== undefined) role.practitioner = ref(practitioner, displayName(p));
    if (organization !== undefined) role.organization = ref(organization, p.structureName);
    roles.set(p.rpps, put(role, { system: ACT_ROLE_IDENTIFIER_SYSTEM, value: key }));
  }
  // Sorted by key so that reordering professionals in the message does not reorder the bundle.
  const sorted = (m: Map<string, Write>) => [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, w]) => w);
  return { writes: [...sorted(organizations), ...sorted(practitioners), ...sorted(roles)], roles, organizations };
}

export function roleRef(directory: Directory, rpps: string): Ref {
  const role = directory.roles.get(rpps);
  if (role === undefined) throw new RangeError(`no PractitionerRole for RPPS ${rpps}`);
  return ref(role);
}
