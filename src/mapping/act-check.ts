// The business rules of a telehealth act that a JSON Schema cannot say (issue 6, §5): each broken rule is
// one issue with a stable code and the path of the field in the request body, all reported at once.
// Errors answer 422; warnings travel with the 2xx answer.
import type { ErrorObject } from 'ajv';
import { checkIns, type FindingField } from '../ins/index.ts';
import { ACT_REPORT_SCHEMA, ACT_SCHEMA, MAX_ATTACHMENT_BASE64_LENGTH, MAX_ATTACHMENT_BYTES, MEDICAL_PROFESSIONS, TELEMEDICINE_ACT_TYPES, type Act, type ActIssue, type ActProfessional, type ActReport } from '../model/act.ts';
import { BILLING_ACTS } from './act-coding.ts';
import { finessKeyValid, rppsKeyValid } from './offer-check.ts';
import { toFrCorePatient } from './patient.ts';
import { strictValidator } from '../model/strict-validator.ts';

export interface ActCheckOptions {
  /** Test (…4.10) and demo (…4.11) INS are refused unless this is true. */
  readonly allowTestIdentities?: boolean;
}

/** Every code checkAct can report, with its severity: a client can rely on "this code always blocks". */
export const ACT_ISSUE_CODES = {
  ACT_END_BEFORE_START: 'error',
  ACT_END_MISSING: 'warning',
  ACT_NO_MEDICAL_PROFESSIONAL: 'error',
  ACT_TELEEXPERTISE_WITHOUT_REQUESTER: 'error',
  ACT_REPORT_MISSING: 'warning',
  ACT_CONSENT_REFUSED_PERFORMED: 'error',
  ACT_BILLING_CODE_UNKNOWN: 'error',
  ACT_BILLING_CODE_MISMATCH: 'error',
  ACT_TELEEXPERTISE_DELAY_MISSING: 'error',
  ACT_TELESURVEILLANCE_PROGRAM_MISSING: 'error',
  ACT_PROFESSIONAL_UNKNOWN: 'error',
  ACT_PERFORMER_DUPLICATE: 'error',
  ACT_RPPS_KEY_INVALID: 'error',
  ACT_FINESS_KEY_INVALID: 'error',
  ACT_INCIDENT_OUTSIDE_ACT: 'warning',
  ACT_INS_NOT_SHARED: 'warning',
  ACT_SCHEMA: 'error',
} as const;
export type ActIssueCode = keyof typeof ACT_ISSUE_CODES;

function issue(code: ActIssueCode, field: string, message: string): ActIssue {
  return { severity: ACT_ISSUE_CODES[code], code, field, message };
}

/** Where a finding of the INS room lands in the act body. */
const INS_FIELD: Readonly<Record<FindingField, string>> = {
  ins: 'patient.ins',
  oid: 'patient.insOid',
  'traits.sex': 'patient.traits.sex',
  'traits.birthDate': 'patient.traits.birthDate',
  'traits.birthplaceCode': 'patient.traits.birthplaceCode',
};

/** Every professional of the act with the path of its entry in the body. */
export function professionalsOf(act: Act): { readonly professional: ActProfessional; readonly field: string }[] {
  const out: { professional: ActProfessional; field: string }[] = act.performers.map((professional, i) => ({ professional, field: `performers[${i}]` }));
  if (act.requester !== undefined) out.push({ professional: act.requester, field: 'requester' });
  if (act.onSiteAssistant !== undefined) out.push({ professional: act.onSiteAssistant, field: 'onSiteAssistant' });
  return out;
}

function instant(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const time = Date.parse(value);
  return Number.isNaN(time) ? undefined : time;
}

function checkPeriod(act: Act, out: ActIssue[]): void {
  const start = instant(act.start);
  const end = instant(act.end);
  if (start !== undefined && end !== undefined && end < start) {
    out.push(issue('ACT_END_BEFORE_START', 'end', `La fin de l'acte (${act.end ?? ''}) précède son début (${act.start}) : corrigez les horodatages.`));
  }
  if (act.status === 'finished' && act.end === undefined) {
    out.push(issue('ACT_END_MISSING', 'end', "L'acte est terminé mais sa fin n'est pas donnée : renseignez end pour tracer sa durée."));
  }
  (act.incidents ?? []).forEach((incident, i) => {
    const time = instant(incident.time);
    if (time === undefined || start === undefined) return;
    if (time < start || (end !== undefined && time > end)) {
      out.push(issue('ACT_INCIDENT_OUTSIDE_ACT', `incidents[${i}].time`, "L'incident est daté hors de la période de l'acte : vérifiez son horodatage."));
    }
  });
}

function checkCodes(act: Act, out: ActIssue[]): void {
  if (act.type === 'teleexpertise' && act.teleexpertiseDelay === undefined) {
    out.push(
      issue('ACT_TELEEXPERTISE_DELAY_MISSING', 'teleexpertiseDelay', 'Une téléexpertise se code selon son délai de réponse : donnez teleexpertiseDelay (lt24h, lt7d ou gt7d).'),
    );
  }
  if (act.type === 'telesurveillance' && act.telesurveillanceProgram === undefined) {
    out.push(
      issue(
        'ACT_TELESURVEILLANCE_PROGRAM_MISSING',
        'telesurveillanceProgram',
        'Une télésurveillance se code selon son programme : donnez telesurveillanceProgram (insuffisance-cardiaque, diabete, …).',
      ),
    );
  }
  if (act.billingCode !== undefined) {
    const billing = BILLING_ACTS[act.billingCode];
    if (billing === undefined) {
      out.push(
        issue(
          'ACT_BILLING_CODE_UNKNOWN',
          'billingCode',
          `Le code de facturation « ${act.billingCode} » est inconnu : codes admis ${Object.keys(BILLING_ACTS).join(', ')}.`,
        ),
      );
    } else if (!billing.types.includes(act.type)) {
      out.push(
        issue('ACT_BILLING_CODE_MISMATCH', 'billingCode', `Le code ${act.billingCode} (${billing.display}) ne facture pas un acte de type ${act.type} : vérifiez le type ou le code.`),
      );
    }
  }
}

function checkProfessionals(act: Act, out: ActIssue[]): void {
  const professionals = professionalsOf(act);
  for (const { professional, field } of professionals) {
    if (!rppsKeyValid(professional.rpps)) {
      out.push(issue('ACT_RPPS_KEY_INVALID', `${field}.rpps`, `Le numéro RPPS ${professional.rpps} a une clé (11e chiffre) fausse : vérifiez la saisie.`));
    }
    if (professional.finess !== undefined && finessKeyValid(professional.finess) === false) {
      out.push(issue('ACT_FINESS_KEY_INVALID', `${field}.finess`, `Le numéro FINESS ${professional.finess} a une clé (9e chiffre) fausse : vérifiez la saisie.`));
    }
  }
  const seen = new Set<string>();
  act.performers.forEach((performer, i) => {
    if (seen.has(performer.rpps)) {
      out.push(issue('ACT_PERFORMER_DUPLICATE', `performers[${i}].rpps`, `Le professionnel ${performer.rpps} figure deux fois parmi les réalisants : gardez une seule entrée.`));
    }
    seen.add(performer.rpps);
  });
  if (TELEMEDICINE_ACT_TYPES.has(act.type) && !act.performers.some((p) => MEDICAL_PROFESSIONS.has(p.profession))) {
    out.push(
      issue(
        'ACT_NO_MEDICAL_PROFESSIONAL',
        'performers',
        "Un acte de télémédecine exige un professionnel médical (médecin, chirurgien-dentiste ou sage-femme) parmi les réalisants : sinon, déclarez un télésoin.",
      ),
    );
  }
  if (act.type === 'teleexpertise' && act.requester === undefined) {
    out.push(issue('ACT_TELEEXPERTISE_WITHOUT_REQUESTER', 'requester', 'Une téléexpertise a toujours un professionnel requérant : renseignez requester.'));
  }
  const known = new Set(professionals.map((p) => p.professional.rpps));
  const mustKnow = (rpps: string | undefined, field: string, what: string): void => {
    if (rpps !== undefined && !known.has(rpps)) {
      out.push(issue('ACT_PROFESSIONAL_UNKNOWN', field, `${what} (RPPS ${rpps}) n'est pas un professionnel de l'acte : ajoutez-le aux réalisants, au requérant ou à l'assistant.`));
    }
  };
  mustKnow(act.report?.authorRpps, 'report.authorRpps', "L'auteur du compte rendu");
  mustKnow(act.consent?.collectedByRpps, 'consent.collectedByRpps', 'Le professionnel qui a recueilli le consentement');
  (act.prescriptions ?? []).forEach((p, i) => mustKnow(p.prescriberRpps, `prescriptions[${i}].prescriberRpps`, 'Le prescripteur'));
}

function checkConsentAndReport(act: Act, out: ActIssue[]): void {
  const performedRemotely = act.status === 'finished' || act.status === 'in-progress';
  const converted = (act.incidents ?? []).some((i) => i.effect === 'converted-in-person');
  if (act.consent?.decision === 'refused' && performedRemotely && !converted) {
    out.push(
      issue(
        'ACT_CONSENT_REFUSED_PERFORMED',
        'consent.decision',
        "Le patient a refusé l'acte à distance : il ne peut être enregistré comme réalisé à distance. Envoyez-le annulé (cancelled), ou avec un incident converted-in-person s'il a basculé en présentiel.",
      ),
    );
  }
  if (act.status === 'finished' && act.report === undefined) {
    out.push(issue('ACT_REPORT_MISSING', 'report', "L'acte est terminé sans compte rendu : le compte rendu est obligatoire (CSP R6316-4) ; envoyez-le dès que possible (PUT …/report)."));
  }
}

function checkPatient(act: Act, options: ActCheckOptions, out: ActIssue[]): void {
  const { patient } = act;
  if (patient.ins === undefined || patient.ins.trim() === '') return;
  const { traits } = patient;
  const result = checkIns(
    { ins: patient.ins, oid: patient.insOid, traits: { sex: traits.sex, birthDate: traits.birthDate, birthplaceCode: traits.birthplaceCode } },
    options,
  );
  for (const finding of result.issues) {
    out.push({ severity: finding.severity, code: finding.code, field: INS_FIELD[finding.field], message: finding.message });
  }
  if (!result.valid) return;
  // A valid INS that the RNIV forbids sharing (identity not qualified…) is accepted: the patient goes
  // with the IPP only, and the sender learns why.
  const mapping = toFrCorePatient(patient, options);
  if (!mapping.insIncluded) {
    out.push(issue('ACT_INS_NOT_SHARED', 'patient.ins', `L'INS n'est pas transmis : ${mapping.insExclusionReason ?? ''}`.trim()));
  }
}

/**
 * The business rules of an act that passed ACT_SCHEMA. Never throws; an empty list means the act is
 * accepted as is; with no error, the act has a national type code (actTypeCoding) and maps.
 */
export function checkAct(act: Act, options: ActCheckOptions = {}): ActIssue[] {
  const out: ActIssue[] = [];
  checkPeriod(act, out);
  checkCodes(act, out);
  checkProfessionals(act, out);
  checkConsentAndReport(act, out);
  checkPatient(act, options, out);
  return out;
}

// --- schema + rules in one call ------------------------------------------------------------------------

export type ActValidation =
  | { readonly ok: true; readonly act: Act; readonly warnings: readonly ActIssue[] }
  /** 400 when the body breaks the schema, 413 when an attachment passes the cap, 422 when only business rules are broken. */
  | { readonly ok: false; readonly status: 400 | 413 | 422; readonly issues: readonly ActIssue[] };

const schemaValidator = strictValidator(ACT_SCHEMA);
const reportValidator = strictValidator(ACT_REPORT_SCHEMA);

const isBase64Field = (error: ErrorObject): boolean => /\/(?:pdfBase64|dataBase64)$/.test(error.instancePath);
const MEBIBYTES = MAX_ATTACHMENT_BYTES / 1024 / 1024;

/** `/performers/1/rpps` → `performers[1].rpps`. */
function fieldOf(pointer: string, extra?: string): string {
  const segments = pointer.split('/').slice(1);
  if (extra !== undefined) segments.push(extra);
  let path = '';
  for (const segment of segments) {
    if (/^\d+$/.test(segment)) path += `[${segment}]`;
    else path += path === '' ? segment : `.${segment}`;
  }
  return path === '' ? '(body)' : path;
}

function schemaIssue(error: ErrorObject): ActIssue {
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return issue('ACT_SCHEMA', fieldOf(error.instancePath, String(params.missingProperty)), `Le champ ${String(params.missingProperty)} est obligatoire.`);
    case 'additionalProperties':
      return issue('ACT_SCHEMA', fieldOf(error.instancePath, String(params.additionalProperty)), `Le champ ${String(params.additionalProperty)} n'est pas prévu : retirez-le.`);
    case 'enum':
      return issue('ACT_SCHEMA', fieldOf(error.instancePath), `Valeur non admise ; valeurs possibles : ${(params.allowedValues as unknown[]).join(', ')}.`);
    case 'pattern':
      return issue('ACT_SCHEMA', fieldOf(error.instancePath), `Format non admis (${String(params.pattern)}).`);
    case 'maxLength':
      return isBase64Field(error)
        ? issue('ACT_SCHEMA', fieldOf(error.instancePath), `Pièce trop volumineuse : au plus ${MEBIBYTES} Mio par pièce (${MAX_ATTACHMENT_BASE64_LENGTH} caractères en base64).`)
        : issue('ACT_SCHEMA', fieldOf(error.instancePath), `Au plus ${String(params.limit)} caractères.`);
    case 'format':
      return issue('ACT_SCHEMA', fieldOf(error.instancePath), 'Base64 standard attendu (RFC 4648 : A-Z, a-z, 0-9, +, /, complété par =, sans retour à la ligne).');
    case 'oneOf':
      return issue('ACT_SCHEMA', fieldOf(error.instancePath), 'Donnez le compte rendu soit en texte (text), soit en PDF (pdfBase64), pas les deux.');
    default:
      return issue('ACT_SCHEMA', fieldOf(error.instancePath), error.message ?? 'Valeur non admise.');
  }
}

/**
 * The whole check of a request body: ACT_SCHEMA (strict Ajv, all errors), then checkAct. 400 for a
 * malformed body, 422 for a broken business rule; warnings come back with an accepted act.
 */
function schemaFailure(all: readonly ErrorObject[]): { ok: false; status: 400 | 413; issues: ActIssue[] } {
  // oneOf failures also report the failing branches' `required`: keep the clearer oneOf message only.
  const errors = all.filter((e) => !e.schemaPath.includes('/oneOf/'));
  const tooLarge = errors.some((error) => error.keyword === 'maxLength' && isBase64Field(error));
  return { ok: false, status: tooLarge ? 413 : 400, issues: errors.map(schemaIssue) };
}

/** The check of a late or amended report (PUT …/report): ACT_REPORT_SCHEMA, with the same answers as an act's. */
export function validateReport(body: unknown): { ok: true; report: ActReport } | { ok: false; status: 400 | 413; issues: readonly ActIssue[] } {
  const validate = reportValidator();
  return validate(body) ? { ok: true, report: body as ActReport } : schemaFailure(validate.errors ?? []);
}

export function validateAct(body: unknown, options: ActCheckOptions = {}): ActValidation {
  const validate = schemaValidator();
  if (!validate(body)) {
    return schemaFailure(validate.errors ?? []);
  }
  const act = body as Act;
  const issues = checkAct(act, options);
  const errors = issues.filter((i) => i.severity === 'error');
  if (errors.length > 0) return { ok: false, status: 422, issues };
  return { ok: true, act, warnings: issues };
}
