// Input contract of POST /v1/ins/check: the JSON Schema is the source of truth, the type follows it.

export const INS_PATTERN_HINT = '15 caractères : 13 (chiffres, 2A/2B pour la Corse) + clé sur 2 chiffres';

export const insTraitsSchema = {
  type: 'object',
  additionalProperties: false,
  description: "Traits d'identité (ceux de l'INS) à comparer au numéro ; tous facultatifs.",
  properties: {
    birthFamilyName: { type: 'string', minLength: 1, maxLength: 200, description: 'Nom de naissance' },
    birthGivenNames: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 100 }, maxItems: 20, description: 'Prénoms de naissance, dans l’ordre' },
    birthDate: { type: 'string', pattern: '^\\d{4}(-\\d{2}(-\\d{2})?)?$', description: 'Date de naissance AAAA-MM-JJ' },
    sex: { type: 'string', enum: ['male', 'female', 'other', 'unknown'], description: 'Sexe (genre FHIR)' },
    birthplaceCode: { type: 'string', pattern: '^(\\d{5}|2[AB]\\d{3})$', description: 'Code INSEE (COG) du lieu de naissance : commune, ou 99 + pays' },
  },
} as const;

export const insCheckRequestSchema = {
  $id: 'InsCheckRequest',
  type: 'object',
  additionalProperties: false,
  required: ['ins'],
  properties: {
    ins: { type: 'string', minLength: 1, maxLength: 40, description: `Le NIR ou le NIA (${INS_PATTERN_HINT})` },
    oid: { type: 'string', maxLength: 64, description: "OID de l'INS (urn:oid:1.2.250.1.213.1.4.8 NIR, …4.9 NIA, …4.10 test, …4.11 démo) ; NIR par défaut" },
    traits: insTraitsSchema,
  },
} as const;

export interface InsCheckRequest {
  readonly ins: string;
  readonly oid?: string;
  readonly traits?: {
    readonly birthFamilyName?: string;
    readonly birthGivenNames?: readonly string[];
    readonly birthDate?: string;
    readonly sex?: 'male' | 'female' | 'other' | 'unknown';
    readonly birthplaceCode?: string;
  };
}

export const insCheckResponseSchema = {
  type: 'object',
  required: ['valid', 'test', 'issues'],
  properties: {
    valid: { type: 'boolean', description: "Vrai quand aucune anomalie n'est une erreur" },
    ins: { type: 'string' },
    kind: { type: 'string', enum: ['INS-NIR', 'INS-NIA', 'INS-NIR-TEST', 'INS-NIR-DEMO'] },
    oid: { type: 'string' },
    test: { type: 'boolean', description: "Identité de test ou de démonstration" },
    issues: {
      type: 'array',
      items: {
        type: 'object',
        required: ['code', 'severity', 'message', 'field'],
        properties: {
          code: { type: 'string', description: 'Code stable de la règle' },
          severity: { type: 'string', enum: ['error', 'warning'] },
          message: { type: 'string' },
          field: { type: 'string', description: 'Chemin du champ concerné dans la requête' },
        },
      },
    },
  },
} as const;

// Input contract of POST /v1/ins/patient: the identity as a DPI holds it, mapped to the FR Core Patient.
export const patientRequestSchema = {
  $id: 'PatientRequest',
  type: 'object',
  additionalProperties: false,
  required: ['identityStatus', 'traits', 'ipp'],
  properties: {
    ins: { type: 'string', minLength: 1, maxLength: 40, description: `Le NIR ou le NIA (${INS_PATTERN_HINT})` },
    insOid: { type: 'string', maxLength: 64, description: "OID de l'INS ; NIR par défaut" },
    identityStatus: { type: 'string', enum: ['PROV', 'RECUP', 'VALI', 'QUAL'], description: "Statut de l'identité (RNIV)" },
    methodCollection: { type: 'string', enum: ['SM', 'CV', 'INSI', 'CB', 'RFID'], description: 'Mode de recueil des traits' },
    traits: {
      type: 'object',
      additionalProperties: false,
      required: ['birthFamilyName', 'birthGivenNames', 'birthDate', 'sex'],
      properties: {
        ...insTraitsSchema.properties,
        birthGivenNames: { ...insTraitsSchema.properties.birthGivenNames, minItems: 1 },
        usedFamilyName: { type: 'string', minLength: 1, maxLength: 200, description: "Nom d'usage" },
        usedGivenName: { type: 'string', minLength: 1, maxLength: 100, description: "Prénom d'usage" },
      },
    },
    ipp: {
      type: 'object',
      additionalProperties: false,
      required: ['system', 'value'],
      description: "Identifiant du patient dans le système source (IPP) : clé de l'écriture",
      properties: { system: { type: 'string', minLength: 1, maxLength: 256 }, value: { type: 'string', minLength: 1, maxLength: 100 } },
    },
  },
} as const;
