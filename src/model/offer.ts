// The input contract of a telehealth offer (issue 5): the JSON Schema that validates POST /v1/offers and
// feeds the OpenAPI document, the TypeScript type written next to it, and the shape of the issues that
// the schema and the business rules report.
//
// The schema is draft-07 compatible without `$schema`, `$ref` or `default`, so that it compiles as is in
// Ajv 8 (default class) and in Fastify's route schema. Two Fastify defaults change what a body becomes:
// `removeAdditional: true` strips unknown properties instead of rejecting them, and `coerceTypes` turns
// "true" into true; `validateOffer` (mapping/offer-check.ts) uses a strict Ajv and reports both.
import type { ErrorObject } from 'ajv';

export const DAYS_OF_WEEK = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type DayOfWeek = (typeof DAYS_OF_WEEK)[number];

/** Keywords for the telehealth acts of DOMAIN.md §1, each coded the way the ROR codes it (DOMAIN.md §3). */
export const TELEHEALTH_MODALITIES = ['teleconsultation', 'teleexpertise', 'telesoin', 'telesurveillance', 'teleassistance', 'regulation'] as const;
export type TelehealthModality = (typeof TELEHEALTH_MODALITIES)[number];

/** lt24h → TRE_R338 10 / TRE_R210 1271, lt7d → 11 / 1272, gt7d → TRE_R210 1273 only (R338 12 left JDV_J226). */
export const TELEEXPERTISE_DELAYS = ['lt24h', 'lt7d', 'gt7d'] as const;
export type TeleexpertiseDelay = (typeof TELEEXPERTISE_DELAYS)[number];

/** Contact channels and the TRE_R200 (or TRE_R256 for MSSanté) code each one carries. */
export const CONTACT_CHANNELS = ['landline', 'mobile', 'fax', 'email', 'mssante', 'web'] as const;
export type ContactChannel = (typeof CONTACT_CHANNELS)[number];

/** TRE_R283 levels: 1 grand public, 2 professionnels, 3 régulation et gestion de crise. */
export const CONFIDENTIALITY_LEVELS = ['public', 'professionals', 'regulation'] as const;
export type ConfidentialityLevel = (typeof CONFIDENTIALITY_LEVELS)[number];

export const FINESS_TYPES = ['EG', 'EJ'] as const;
export type FinessType = (typeof FINESS_TYPES)[number];

/** A code of the national code system that the field names. */
export interface NationalCode {
  readonly code: string;
}
/** A code of a local system, to be translated into the national one (mappings/, through the caller). */
export interface LocalCode {
  readonly localSystem: string;
  readonly localCode: string;
}
export type CodeInput = NationalCode | LocalCode;

export interface OfferStructure {
  /** FINESS of the structure that provides the offer (ROR providedBy), 9 characters, 2A/2B for Corsica. */
  readonly finess: string;
  /** Entité géographique (default) or entité juridique. */
  readonly finessType?: FinessType;
  readonly name: string;
  readonly siret?: string;
}

export interface OfferAddress {
  readonly lines: readonly string[];
  readonly postalCode: string;
  readonly city: string;
  /** INSEE (COG) code of the commune, 5 characters, 2A/2B for Corsica. */
  readonly inseeCode: string;
}

export interface OfferSite {
  readonly name: string;
  /** FINESS of the site (entité géographique), when it has one: it becomes the Location's key. */
  readonly finess?: string;
  readonly address: OfferAddress;
  readonly coordinates?: { readonly latitude: number; readonly longitude: number };
}

export interface OfferPatientType {
  /** Age range in years, both ends included (ROR ageRange, required there); default 0–120. */
  readonly minAge: number;
  readonly maxAge: number;
  /** TRE_R239 PublicPrisEnCharge (JDV_J29). */
  readonly publics?: readonly CodeInput[];
}

export interface OfferProfessional {
  /** RPPS number, 11 digits (idNatPs = '8' + RPPS). */
  readonly rpps: string;
  readonly familyName: string;
  readonly givenName?: string;
  /** The professional's role in the offer, as the ROR codes it: the profession (TRE_G15 ProfessionSante). */
  readonly profession: CodeInput;
}

export interface OfferOpeningHours {
  readonly days: readonly DayOfWeek[];
  /** HH:MM, local time. */
  readonly opens: string;
  /** HH:MM, after `opens` (a slot never crosses midnight). */
  readonly closes: string;
  /** TRE_R252 TypeHoraire, e.g. 07 consultation sur RDV, 10 téléconsultation. */
  readonly hoursType?: CodeInput;
}

export interface OfferContact {
  readonly channel: ContactChannel;
  /** Phone (E.164 or French national format), e-mail address or http(s) URL, per channel. */
  readonly value: string;
  /** Default public. */
  readonly confidentiality?: ConfidentialityLevel;
  /** What the contact is for (ROR utilisation), free text. */
  readonly usage?: string;
}

export interface Offer {
  /** Stable, persistent identifier of the offer in the source system: the key of every upsert. */
  readonly identifiantOffre: string;
  readonly name: string;
  readonly description?: string;
  /** Default true; false withdraws the offer. */
  readonly active?: boolean;
  /** ROR uniteSensible: the whole description is confidential. Required, never defaulted. */
  readonly sensitiveUnit: boolean;
  readonly structure: OfferStructure;
  readonly sites: readonly OfferSite[];
  /** TRE_R227 ChampActivite (JDV_J20). */
  readonly activityField: CodeInput;
  /** TRE_R211 ActiviteOperationnelle. */
  readonly operationalActivity: CodeInput;
  /** TRE_R213 ModePriseEnCharge (JDV_J19): exactly one per offer in the ROR. */
  readonly careMode: CodeInput;
  readonly modalities: readonly TelehealthModality[];
  /** Required with the teleexpertise modality. */
  readonly teleexpertiseDelay?: TeleexpertiseDelay;
  /** Other TRE_R338 reception modalities (03 présentiel, 05 domicile…); telehealth ones come from `modalities`. */
  readonly receptionModalities?: readonly CodeInput[];
  /** TRE_R210 specific acts (JDV_J16), télésurveillance acts (1279, 1483–1487) included. */
  readonly specificActs?: readonly CodeInput[];
  readonly patientType?: OfferPatientType;
  readonly professionals?: readonly OfferProfessional[];
  readonly openingHours?: readonly OfferOpeningHours[];
  readonly contacts?: readonly OfferContact[];
}

/** One problem in a request body: `field` is its path there (`professionals[1].rpps`). */
export interface OfferIssue {
  readonly severity: 'error' | 'warning';
  readonly code: string;
  readonly field: string;
  /** French, says what to do. */
  readonly message: string;
}

// Patterns shared by the schema and the business rules.
export const FINESS_PATTERN = '^(?:[0-9]{9}|2[AB][0-9]{7})$';
export const RPPS_PATTERN = '^[0-9]{11}$';
export const SIRET_PATTERN = '^[0-9]{14}$';
export const INSEE_CODE_PATTERN = '^(?:[0-9]{5}|2[AB][0-9]{3})$';
export const POSTAL_CODE_PATTERN = '^[0-9]{5}$';
export const TIME_PATTERN = '^(?:[01][0-9]|2[0-3]):[0-5][0-9]$';
// E.164, the same with spaces after +33, or the French national format with optional separators.
export const PHONE_PATTERN = '^(?:\\+[1-9][0-9]{7,14}|\\+33 ?[1-9](?:[ .-]?[0-9]{2}){4}|0[1-9](?:[ .-]?[0-9]{2}){4})$';
export const OFFER_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$';

const text = (maxLength: number) => ({ type: 'string', minLength: 1, maxLength, pattern: '\\S' }) as const;

const codeInput = (description: string) =>
  ({
    type: 'object',
    description: `${description}: { code } in the national system, or { localSystem, localCode } translated by mappings/.`,
    additionalProperties: false,
    properties: {
      code: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,20}$' },
      localSystem: { type: 'string', minLength: 1, maxLength: 250 },
      localCode: { type: 'string', minLength: 1, maxLength: 64 },
    },
    // required-only branches: safe under Fastify's removeAdditional, unlike branches with properties.
    oneOf: [{ required: ['code'] }, { required: ['localSystem', 'localCode'] }],
  }) as const;

export const OFFER_SCHEMA = {
  title: 'Offer',
  description: 'A telehealth offer, mapped to a ROR-aligned HealthcareService and its neighbours.',
  type: 'object',
  additionalProperties: false,
  required: ['identifiantOffre', 'name', 'sensitiveUnit', 'structure', 'sites', 'activityField', 'operationalActivity', 'careMode', 'modalities'],
  properties: {
    identifiantOffre: {
      type: 'string',
      pattern: OFFER_ID_PATTERN,
      description: 'Stable identifier of the offer in the source system (letters, digits, . _ : / -, 64 max).',
    },
    name: text(250),
    description: text(4000),
    active: { type: 'boolean', description: 'Default true.' },
    sensitiveUnit: { type: 'boolean', description: 'ROR uniteSensible.' },
    structure: {
      type: 'object',
      additionalProperties: false,
      required: ['finess', 'name'],
      properties: {
        finess: { type: 'string', pattern: FINESS_PATTERN },
        finessType: { type: 'string', enum: FINESS_TYPES, description: 'EG (default) or EJ.' },
        name: text(250),
        siret: { type: 'string', pattern: SIRET_PATTERN },
      },
    },
    sites: {
      type: 'array',
      minItems: 1,
      maxItems: 50,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'address'],
        properties: {
          name: text(250),
          finess: { type: 'string', pattern: FINESS_PATTERN },
          address: {
            type: 'object',
            additionalProperties: false,
            required: ['lines', 'postalCode', 'city', 'inseeCode'],
            properties: {
              lines: { type: 'array', minItems: 1, maxItems: 4, items: text(250) },
              postalCode: { type: 'string', pattern: POSTAL_CODE_PATTERN },
              city: text(250),
              inseeCode: { type: 'string', pattern: INSEE_CODE_PATTERN },
            },
          },
          coordinates: {
            type: 'object',
            additionalProperties: false,
            required: ['latitude', 'longitude'],
            properties: {
              latitude: { type: 'number', minimum: -90, maximum: 90 },
              longitude: { type: 'number', minimum: -180, maximum: 180 },
            },
          },
        },
      },
    },
    activityField: codeInput('TRE_R227 ChampActivite (JDV_J20)'),
    operationalActivity: codeInput('TRE_R211 ActiviteOperationnelle'),
    careMode: codeInput('TRE_R213 ModePriseEnCharge (JDV_J19)'),
    modalities: { type: 'array', uniqueItems: true, maxItems: TELEHEALTH_MODALITIES.length, items: { type: 'string', enum: TELEHEALTH_MODALITIES } },
    teleexpertiseDelay: { type: 'string', enum: TELEEXPERTISE_DELAYS, description: 'Required with the teleexpertise modality.' },
    receptionModalities: { type: 'array', uniqueItems: true, maxItems: 30, items: codeInput('TRE_R338 ModaliteAccueil (JDV_J226)') },
    specificActs: { type: 'array', uniqueItems: true, maxItems: 200, items: codeInput('TRE_R210 ActeSpecifique (JDV_J16)') },
    patientType: {
      type: 'object',
      additionalProperties: false,
      required: ['minAge', 'maxAge'],
      properties: {
        minAge: { type: 'integer', minimum: 0, maximum: 150 },
        maxAge: { type: 'integer', minimum: 0, maximum: 150 },
        publics: { type: 'array', uniqueItems: true, maxItems: 20, items: codeInput('TRE_R239 PublicPrisEnCharge (JDV_J29)') },
      },
    },
    professionals: {
      type: 'array',
      maxItems: 500,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['rpps', 'familyName', 'profession'],
        properties: {
          rpps: { type: 'string', pattern: RPPS_PATTERN },
          familyName: text(100),
          givenName: text(100),
          profession: codeInput('TRE_G15 ProfessionSante'),
        },
      },
    },
    openingHours: {
      type: 'array',
      maxItems: 100,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['days', 'opens', 'closes'],
        properties: {
          days: { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'string', enum: DAYS_OF_WEEK } },
          opens: { type: 'string', pattern: TIME_PATTERN },
          closes: { type: 'string', pattern: TIME_PATTERN },
          hoursType: codeInput('TRE_R252 TypeHoraire'),
        },
      },
    },
    contacts: {
      type: 'array',
      maxItems: 50,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['channel', 'value'],
        properties: {
          channel: { type: 'string', enum: CONTACT_CHANNELS },
          value: text(500),
          confidentiality: { type: 'string', enum: CONFIDENTIALITY_LEVELS, description: 'Default public.' },
          usage: text(250),
        },
        allOf: [
          {
            if: { properties: { channel: { enum: ['landline', 'mobile', 'fax'] } } },
            then: { properties: { value: { type: 'string', pattern: PHONE_PATTERN } } },
          },
          {
            if: { properties: { channel: { enum: ['email', 'mssante'] } } },
            then: { properties: { value: { type: 'string', format: 'email' } } },
          },
          {
            if: { properties: { channel: { const: 'web' } } },
            then: { properties: { value: { type: 'string', format: 'uri', pattern: '^https?://' } } },
          },
        ],
      },
    },
  },
} as const;

/** `/professionals/1/rpps` → `professionals[1].rpps`. */
export function fieldOfPointer(pointer: string): string {
  let field = '';
  for (const raw of pointer.split('/').slice(1)) {
    const part = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    field += /^\d+$/.test(part) ? `[${part}]` : field === '' ? part : `.${part}`;
  }
  return field;
}

function join(parent: string, child: string): string {
  return parent === '' ? child : `${parent}.${child}`;
}

function lastName(field: string): string {
  return field.replace(/\[\d+\]$/, '').split('.').pop() ?? field;
}

const FORMAT_MESSAGES: Record<string, { code: string; message: string }> = {
  finess: { code: 'finess-format', message: 'Le numéro FINESS compte 9 caractères : 9 chiffres, ou 2A/2B suivi de 7 chiffres pour la Corse.' },
  rpps: { code: 'rpps-format', message: 'Le numéro RPPS compte 11 chiffres, sans espace.' },
  siret: { code: 'siret-format', message: 'Le SIRET compte 14 chiffres, sans espace.' },
  inseeCode: { code: 'insee-format', message: 'Le code INSEE (COG) de la commune compte 5 caractères : 5 chiffres, ou 2A/2B suivi de 3 chiffres.' },
  postalCode: { code: 'postal-code-format', message: 'Le code postal compte 5 chiffres.' },
  opens: { code: 'time-format', message: "L'heure s'écrit HH:MM sur 24 heures, de 00:00 à 23:59." },
  closes: { code: 'time-format', message: "L'heure s'écrit HH:MM sur 24 heures, de 00:00 à 23:59." },
  identifiantOffre: { code: 'offer-id-format', message: "L'identifiant de l'offre compte 1 à 64 caractères : lettres, chiffres et . _ : / -, en commençant par une lettre ou un chiffre." },
  code: { code: 'code-format', message: 'Le code national compte 1 à 20 lettres, chiffres, points, tirets ou soulignés.' },
};

function schemaIssue(error: ErrorObject): OfferIssue | undefined {
  const at = fieldOfPointer(error.instancePath);
  const params = error.params as Record<string, unknown>;
  const issue = (code: string, field: string, message: string): OfferIssue => ({ severity: 'error', code, field, message });
  switch (error.keyword) {
    case 'if':
      // Its `then` reports the real failure.
      return undefined;
    case 'oneOf':
      return params['passingSchemas'] === null
        ? issue('code-missing', at, 'Donnez soit { code } dans le système national, soit { localSystem, localCode }.')
        : issue('code-ambiguous', at, 'Donnez soit { code }, soit { localSystem, localCode }, pas les deux.');
    case 'required': {
      const field = join(at, String(params['missingProperty']));
      return issue('missing', field, `Champ obligatoire manquant : ${field}.`);
    }
    case 'additionalProperties': {
      const field = join(at, String(params['additionalProperty']));
      return issue('unknown-field', field, `Champ inconnu : ${field}. Retirez-le ou vérifiez son orthographe.`);
    }
    case 'pattern':
    case 'format': {
      const known = FORMAT_MESSAGES[lastName(at)];
      if (known !== undefined) return issue(known.code, at, known.message);
      if (lastName(at) === 'value') return issue('contact-format', at, 'Valeur incompatible avec le canal : téléphone au format E.164 (+33…) ou national (0X XX XX XX XX), adresse e-mail, ou URL http(s).');
      return issue('format', at, 'Valeur vide ou mal formée.');
    }
    case 'enum':
    case 'const':
      return issue('not-allowed', at, `Valeur non admise. Valeurs possibles : ${((params['allowedValues'] as unknown[] | undefined) ?? []).join(', ')}.`);
    case 'type':
      return issue('type', at === '' ? '(corps)' : at, `Type attendu : ${String(params['type'])}.`);
    case 'minItems':
      return issue('too-few', at, `Donnez au moins ${String(params['limit'])} élément(s).`);
    case 'maxItems':
      return issue('too-many', at, `Donnez au plus ${String(params['limit'])} élément(s).`);
    case 'uniqueItems':
      return issue('duplicate', at, `Éléments en double (positions ${String(params['j'])} et ${String(params['i'])}) : ne les donnez qu'une fois.`);
    case 'minLength':
      return issue('empty', at, 'Valeur vide.');
    case 'maxLength':
      return issue('too-long', at, `Au plus ${String(params['limit'])} caractères.`);
    case 'minimum':
    case 'maximum':
      return issue('out-of-range', at, `Valeur hors bornes (${error.keyword === 'minimum' ? 'minimum' : 'maximum'} ${String(params['limit'])}).`);
    default:
      return issue(error.keyword, at, error.message ?? 'Valeur invalide.');
  }
}

/**
 * Ajv errors (allErrors) as offer issues, one per field and code: Ajv reports a field once per failing
 * keyword and branch, a person wants each wrong field named once.
 */
export function issuesFromSchemaErrors(errors: readonly ErrorObject[]): OfferIssue[] {
  const seen = new Set<string>();
  const issues: OfferIssue[] = [];
  for (const error of errors) {
    // The branches of a code's oneOf only say which properties are missing: the oneOf error says it better.
    if (error.schemaPath.includes('/oneOf/')) continue;
    const found = schemaIssue(error);
    if (found === undefined) continue;
    const key = `${found.field}\u0000${found.code}`;
    if (seen.has(key)) continue;
    seen.add(key);
    issues.push(found);
  }
  // A value of the wrong type fails its other keywords too (a string passes both `required` branches of
  // a code): the type is what to fix.
  const wrongType = new Set(issues.filter((i) => i.code === 'type').map((i) => i.field));
  return issues.filter((i) => i.code === 'type' || !wrongType.has(i.field));
}
