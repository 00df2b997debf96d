// Every finding the INS room can report. The severity belongs to the code, not to the call site, so a
// client (and the API documentation) can rely on "this code is always blocking" without reading our code.
export const INS_ISSUE_CODES = {
  INS_MISSING: { severity: 'error', field: 'ins', summary: "Aucun INS n'a été fourni." },
  INS_LENGTH: { severity: 'error', field: 'ins', summary: "L'INS ne fait pas exactement 15 caractères." },
  INS_CHARACTERS: { severity: 'error', field: 'ins', summary: "L'INS contient un caractère non admis." },
  INS_SEX_DIGIT_INVALID: { severity: 'error', field: 'ins', summary: 'Le premier chiffre (sexe) n’est ni 1 ni 2.' },
  INS_TEMPORARY_NUMBER: {
    severity: 'error',
    field: 'ins',
    summary: "Le numéro est un numéro provisoire (premier chiffre 3, 4, 7 ou 8), pas un INS.",
  },
  INS_BIRTH_MONTH_INVALID: { severity: 'error', field: 'ins', summary: 'Le mois de naissance du numéro est impossible.' },
  INS_DEPARTMENT_INVALID: { severity: 'error', field: 'ins', summary: 'Le département de naissance du numéro est impossible.' },
  INS_COMMUNE_INVALID: { severity: 'error', field: 'ins', summary: 'Le code commune ou pays du numéro est impossible.' },
  INS_ORDER_NUMBER_INVALID: { severity: 'error', field: 'ins', summary: "Le numéro d'ordre du numéro vaut 000." },
  INS_KEY_OUT_OF_RANGE: { severity: 'error', field: 'ins', summary: 'La clé ne peut valoir que de 01 à 97.' },
  INS_KEY_MISMATCH: { severity: 'error', field: 'ins', summary: 'La clé ne correspond pas au numéro.' },
  INS_OID_UNKNOWN: { severity: 'error', field: 'oid', summary: "L'OID n'est pas celui d'un INS." },
  INS_TEST_IDENTITY_REFUSED: {
    severity: 'error',
    field: 'oid',
    summary: "Une identité de test ou de démonstration n'est pas admise ici.",
  },
  INS_SEX_MISMATCH: { severity: 'error', field: 'traits.sex', summary: "Le sexe ne correspond pas au premier chiffre de l'INS." },
  INS_BIRTHDATE_INVALID: { severity: 'error', field: 'traits.birthDate', summary: "La date de naissance n'est pas une date AAAA-MM-JJ." },
  INS_BIRTH_YEAR_MISMATCH: {
    severity: 'error',
    field: 'traits.birthDate',
    summary: "L'année de naissance ne correspond pas à l'INS.",
  },
  INS_BIRTH_MONTH_MISMATCH: {
    severity: 'error',
    field: 'traits.birthDate',
    summary: "Le mois de naissance ne correspond pas à l'INS.",
  },
  INS_BIRTHPLACE_INVALID: {
    severity: 'error',
    field: 'traits.birthplaceCode',
    summary: "Le lieu de naissance n'est pas un code INSEE (COG) de 5 caractères.",
  },
  INS_BORN_ABROAD_CONFLICT: {
    severity: 'error',
    field: 'traits.birthplaceCode',
    summary: "L'INS et le lieu de naissance se contredisent sur la naissance en France ou à l'étranger.",
  },
  INS_BIRTHPLACE_FORMER_TERRITORY: {
    severity: 'warning',
    field: 'traits.birthplaceCode',
    summary: "L'INS code un ancien territoire français là où le lieu de naissance donne un pays étranger.",
  },
  INS_BIRTHPLACE_MISMATCH: {
    severity: 'warning',
    field: 'traits.birthplaceCode',
    summary: "La commune de naissance ne correspond pas à celle codée dans l'INS.",
  },
  INS_BIRTH_COUNTRY_MISMATCH: {
    severity: 'warning',
    field: 'traits.birthplaceCode',
    summary: "Le pays de naissance ne correspond pas à celui codé dans l'INS.",
  },
} as const satisfies Record<string, { severity: Severity; field: FindingField; summary: string }>;

export type Severity = 'error' | 'warning';
export type FindingField = 'ins' | 'oid' | 'traits.sex' | 'traits.birthDate' | 'traits.birthplaceCode';
export type InsIssueCode = keyof typeof INS_ISSUE_CODES;

export interface Finding {
  readonly code: InsIssueCode;
  readonly severity: Severity;
  readonly message: string;
  readonly field: FindingField;
}

export function finding(code: InsIssueCode, message: string): Finding {
  const def = INS_ISSUE_CODES[code];
  return { code, severity: def.severity, message, field: def.field };
}

export function hasError(issues: readonly Finding[]): boolean {
  for (const issue of issues) if (issue.severity === 'error') return true;
  return false;
}
