// The business rules of an offer that a JSON Schema cannot say: identifier keys, codes that exist in the
// national code systems and value sets, coherent hours, telehealth coded the way the ROR can hold it.
// Every problem is reported at once, each with the path of the field in the request body.
import {
  issuesFromSchemaErrors,
  OFFER_SCHEMA,
  type CodeInput,
  type Offer,
  type OfferIssue,
  type OfferOpeningHours,
  TIME_PATTERN,
} from '../model/offer.ts';
import { CODE_SETS, conceptOf, type CodeSet } from './codes/index.ts';
import {
  CARE_MODE_OF_MODALITY,
  compareSlots,
  isNationalCode,
  KEYWORD_ACT_CODES,
  KEYWORD_RECEPTION_CODES,
  nationalCodeOf,
  TELESURVEILLANCE_ACTS,
  type CodeOptions,
  type DaySlot,
} from './offer-coding.ts';
import { strictValidator } from '../model/strict-validator.ts';

/** The Luhn (mod 10) sum of a string of digits, doubling every second digit from the right, from the `first` (0 or 1). */
function luhnSum(digits: string, first: 0 | 1): number {
  let sum = 0;
  for (let i = 0; i < digits.length; i += 1) {
    let digit = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === first) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum;
}

/** Luhn (mod 10) over a string of digits, key included. */
export function luhnValid(digits: string): boolean {
  return /^\d+$/.test(digits) && luhnSum(digits, 1) % 10 === 0;
}

/** The digits followed by the Luhn key that makes them valid (synthetic FINESS and RPPS numbers). */
export function withLuhnKey(digits: string): string {
  return `${digits}${(10 - (luhnSum(digits, 0) % 10)) % 10}`;
}

/**
 * The FINESS key: its 9th digit is a Luhn key on the first 8 (checked on published numbers: AP-HP
 * 750712184, HCL 690781810, CHU de Bordeaux 330781196, CHRU de Rennes 350005179). For Corsica (2A/2B) no
 * published rule or number could be checked here: the key is not verified (undefined), only the format.
 */
export function finessKeyValid(finess: string): boolean | undefined {
  if (/^2[AB]/.test(finess)) return undefined;
  return /^\d{9}$/.test(finess) && luhnValid(finess);
}

/** The RPPS key: the 11th digit is a Luhn key on the first 10. */
export function rppsKeyValid(rpps: string): boolean {
  return /^\d{11}$/.test(rpps) && luhnValid(rpps);
}

const LA_POSTE_SIREN = '356000000';
/**
 * SIRET: Luhn over the 14 digits. La Poste's establishments (SIREN 356000000) are numbered past what Luhn
 * allows and follow "sum of the digits multiple of 5" instead: either rule is accepted for them.
 */
export function siretKeyValid(siret: string): boolean {
  if (!/^\d{14}$/.test(siret)) return false;
  if (luhnValid(siret)) return true;
  return siret.startsWith(LA_POSTE_SIREN) && [...siret].reduce((sum, c) => sum + Number(c), 0) % 5 === 0;
}

type Issues = OfferIssue[];

function error(issues: Issues, code: string, field: string, message: string): void {
  issues.push({ severity: 'error', code, field, message });
}
function warning(issues: Issues, code: string, field: string, message: string): void {
  issues.push({ severity: 'warning', code, field, message });
}

function valueSetLabel(set: CodeSet): string {
  const vs = set.valueSet?.split('/').pop();
  return vs === undefined ? set.name : `${vs.replace(/^JDV-(J\d+)-/, 'JDV_$1-')}`;
}

/** Checks one coded field; gives back the national code when it can be used. */
function checkedCode(issues: Issues, field: string, input: CodeInput | undefined, set: CodeSet, options: CodeOptions): string | undefined {
  if (input === undefined || input === null || typeof input !== 'object') return undefined;
  const code = nationalCodeOf(input, set, options);
  if (!isNationalCode(input)) {
    if (code === undefined) {
      error(
        issues,
        'unknown-local-code',
        `${field}.localCode`,
        `Le code local « ${input.localCode} » (système ${input.localSystem}) n'a pas de correspondance vers ${set.name} : ajoutez-la dans mappings/ ou donnez directement le code national.`,
      );
      return undefined;
    }
  }
  if (typeof code !== 'string') return undefined;
  const at = isNationalCode(input) ? `${field}.code` : `${field}.localCode`;
  const shown = isNationalCode(input) ? `« ${code} »` : `« ${code} » (traduit de « ${input.localCode} »)`;
  const concept = conceptOf(set, code);
  if (concept === undefined) {
    error(issues, 'unknown-code', at, `Le code ${shown} n'existe pas dans ${set.name} (version ${set.version}) : donnez un code de ${valueSetLabel(set)}.`);
    return undefined;
  }
  if (concept.excluded === true) {
    error(
      issues,
      'code-not-allowed',
      at,
      `Le code ${shown} (${concept.display}) ${concept.deprecated === true ? 'est obsolète et ' : ''}n'est pas admis par ${valueSetLabel(set)} : choisissez un code actif de ce jeu de valeurs.`,
    );
    return undefined;
  }
  if (concept.deprecated === true) {
    warning(issues, 'deprecated-code', at, `Le code ${shown} (${concept.display}) est obsolète dans ${set.name} : prévoyez de le remplacer.`);
  }
  return code;
}

const DAY_LABELS: Readonly<Record<string, string>> = { mon: 'lundi', tue: 'mardi', wed: 'mercredi', thu: 'jeudi', fri: 'vendredi', sat: 'samedi', sun: 'dimanche' };

const TIME = new RegExp(TIME_PATTERN);

function checkHours(issues: Issues, hours: readonly OfferOpeningHours[], options: CodeOptions): void {
  const slots: (DaySlot & { index: number })[] = [];
  hours.forEach((h, index) => {
    const field = `openingHours[${index}]`;
    const hoursType = checkedCode(issues, `${field}.hoursType`, h.hoursType, CODE_SETS.hoursType, options);
    // Malformed hours are the schema's to report; comparing them would only add noise.
    if (!TIME.test(String(h.opens)) || !TIME.test(String(h.closes))) return;
    if (h.closes <= h.opens) {
      error(issues, 'hours-order', `${field}.closes`, `L'heure de fermeture (${h.closes}) doit suivre l'heure d'ouverture (${h.opens}) ; un créneau ne passe pas minuit : coupez-le en deux jours.`);
      return;
    }
    for (const day of Array.isArray(h.days) ? h.days : []) {
      if (!Object.hasOwn(DAY_LABELS, day)) continue;
      slots.push({ day, opens: h.opens, closes: h.closes, ...(hoursType === undefined ? {} : { hoursType }), index });
    }
  });
  // Different kinds of hours may overlap (opening hours and consultation on appointment within them);
  // two slots of the same kind on the same day may not. One issue per pair of entries, with its days.
  slots.sort(compareSlots);
  const overlaps = new Map<string, { first: DaySlot & { index: number }; second: DaySlot & { index: number }; days: string[] }>();
  for (let i = 0; i < slots.length; i += 1) {
    const a = slots[i] as DaySlot & { index: number };
    for (let j = i + 1; j < slots.length; j += 1) {
      const b = slots[j] as DaySlot & { index: number };
      if (b.day !== a.day) break;
      if ((b.hoursType ?? '') !== (a.hoursType ?? '') || b.opens >= a.closes) continue;
      const [first, second] = a.index <= b.index ? [a, b] : [b, a];
      const key = `${first.index}-${second.index}`;
      const overlap = overlaps.get(key) ?? { first, second, days: [] };
      if (!overlap.days.includes(a.day)) overlap.days.push(a.day);
      overlaps.set(key, overlap);
    }
  }
  const ordered = [...overlaps.values()].sort((x, y) => x.second.index - y.second.index || x.first.index - y.first.index);
  for (const { first, second, days } of ordered) {
    const when = days.map((d) => DAY_LABELS[d] ?? d).join(', ');
    const same = first.index === second.index;
    error(
      issues,
      'hours-overlap',
      `openingHours[${second.index}]`,
      same
        ? `Le créneau ${second.opens}–${second.closes} est donné deux fois pour le même jour (${when}) : ne le donnez qu'une fois.`
        : `Le créneau ${second.opens}–${second.closes} chevauche celui de openingHours[${first.index}] (${first.opens}–${first.closes}) le ${when} : fusionnez-les ou corrigez les heures.`,
    );
  }
}

function checkTelehealth(issues: Issues, offer: Offer, careMode: string | undefined, acts: ReadonlySet<string>): void {
  const modalities = new Set(Array.isArray(offer.modalities) ? offer.modalities : []);
  if (modalities.size === 0) {
    error(issues, 'no-telehealth-modality', 'modalities', 'Une offre de télésanté déclare au moins une modalité : teleconsultation, teleexpertise, telesoin, telesurveillance, teleassistance ou regulation.');
  }
  if (modalities.has('teleexpertise') && offer.teleexpertiseDelay === undefined) {
    error(issues, 'teleexpertise-delay-missing', 'teleexpertiseDelay', 'La téléexpertise précise son délai de réponse : lt24h (moins de 24 h), lt7d (moins de 7 jours) ou gt7d (plus de 7 jours).');
  }
  if (!modalities.has('teleexpertise') && offer.teleexpertiseDelay !== undefined) {
    error(issues, 'teleexpertise-delay-unexpected', 'teleexpertiseDelay', 'Un délai de téléexpertise est donné sans la modalité teleexpertise : ajoutez-la à modalities ou retirez le délai.');
  }
  if (modalities.has('teleexpertise') && offer.teleexpertiseDelay === 'gt7d') {
    warning(
      issues,
      'teleexpertise-delay-deprecated',
      'teleexpertiseDelay',
      "La modalité d'accueil « Téléexpertise en plus de 7 jours » (TRE_R338 12) est obsolète et hors de JDV_J226 : l'offre ne portera que l'acte spécifique 1273. Visez un délai de moins de 7 jours si possible.",
    );
  }
  for (const [modality, code] of Object.entries(CARE_MODE_OF_MODALITY)) {
    if (careMode === code && !modalities.has(modality as never)) {
      error(issues, 'care-mode-without-modality', 'modalities', `Le mode de prise en charge ${code} (${conceptOf(CODE_SETS.careMode, code)?.display ?? code}) suppose la modalité ${modality} : ajoutez-la à modalities.`);
    }
  }
  if (modalities.has('regulation') && careMode !== undefined && careMode !== CARE_MODE_OF_MODALITY.regulation) {
    error(issues, 'regulation-care-mode', 'careMode.code', "La régulation médicale ne se code dans le ROR que par le mode de prise en charge 27 (Régulation médicale téléphonique) : décrivez-la dans une offre dont careMode est 27.");
  }
  const telesurveillanceActs = [...acts].filter((a) => TELESURVEILLANCE_ACTS.has(a));
  if (modalities.has('telesurveillance') && careMode !== CARE_MODE_OF_MODALITY.telesurveillance && telesurveillanceActs.length === 0) {
    error(
      issues,
      'telesurveillance-unqualified',
      'specificActs',
      'La télésurveillance se code par le mode de prise en charge 37 ou par son acte spécifique : ajoutez à specificActs 1279 (arythmie cardiaque), 1483 (insuffisance cardiaque), 1484 (maladie rénale chronique), 1485 (insuffisance respiratoire), 1486 (diabète) ou 1487 (oncologie).',
    );
  }
  if (!modalities.has('telesurveillance') && telesurveillanceActs.length > 0) {
    error(issues, 'telesurveillance-act-without-modality', 'modalities', `Les actes de télésurveillance (${telesurveillanceActs.join(', ')}) supposent la modalité telesurveillance : ajoutez-la à modalities.`);
  }
}

function checkCodeList(
  issues: Issues,
  field: string,
  inputs: readonly CodeInput[] | undefined,
  set: CodeSet,
  reserved: ReadonlySet<string>,
  options: CodeOptions,
): Set<string> {
  const codes = new Set<string>();
  (Array.isArray(inputs) ? inputs : []).forEach((input, index) => {
    const at = `${field}[${index}]`;
    const code = checkedCode(issues, at, input, set, options);
    if (code === undefined) return;
    if (reserved.has(code)) {
      error(
        issues,
        'telehealth-code-in-list',
        isNationalCode(input) ? `${at}.code` : `${at}.localCode`,
        `Le code ${code} (${conceptOf(set, code)?.display ?? code}) est écrit par les modalités : déclarez teleconsultation, teleexpertise (avec teleexpertiseDelay), telesoin ou teleassistance dans modalities et retirez-le d'ici.`,
      );
      return;
    }
    codes.add(code);
  });
  return codes;
}

/**
 * Every business-rule problem of an offer that has passed OFFER_SCHEMA, errors and warnings, in the
 * order of the fields. Robust to a body that failed the schema (validateOffer runs it anyway, to name
 * every wrong field at once), but only meaningful on a schema-valid one.
 */
export function checkOffer(offer: Offer, options: CodeOptions = {}): OfferIssue[] {
  const issues: Issues = [];
  const structure = offer.structure ?? {};
  if (typeof structure.finess === 'string' && finessKeyValid(structure.finess) === false) {
    error(issues, 'finess-key', 'structure.finess', `La clé du numéro FINESS « ${structure.finess} » est fausse (le 9e chiffre est une clé de Luhn sur les 8 premiers) : vérifiez le numéro dans le répertoire FINESS.`);
  }
  if (typeof structure.siret === 'string' && !siretKeyValid(structure.siret)) {
    error(issues, 'siret-key', 'structure.siret', `La clé du SIRET « ${structure.siret} » est fausse (algorithme de Luhn) : vérifiez le numéro dans le répertoire SIRENE.`);
  }
  const siteKeys = new Map<string, number>();
  (Array.isArray(offer.sites) ? offer.sites : []).forEach((site, index) => {
    if (typeof site?.finess !== 'string') return;
    const field = `sites[${index}].finess`;
    if (finessKeyValid(site.finess) === false) {
      error(issues, 'finess-key', field, `La clé du numéro FINESS « ${site.finess} » est fausse (le 9e chiffre est une clé de Luhn sur les 8 premiers) : vérifiez le numéro dans le répertoire FINESS.`);
    }
    const first = siteKeys.get(site.finess);
    if (first !== undefined) {
      error(issues, 'site-duplicate', field, `Le site FINESS ${site.finess} est déjà décrit en sites[${first}] : ne le donnez qu'une fois.`);
    } else siteKeys.set(site.finess, index);
  });

  checkedCode(issues, 'activityField', offer.activityField, CODE_SETS.activityField, options);
  checkedCode(issues, 'operationalActivity', offer.operationalActivity, CODE_SETS.operationalActivity, options);
  const careMode = checkedCode(issues, 'careMode', offer.careMode, CODE_SETS.careMode, options);
  checkCodeList(issues, 'receptionModalities', offer.receptionModalities, CODE_SETS.receptionModality, KEYWORD_RECEPTION_CODES, options);
  const acts = checkCodeList(issues, 'specificActs', offer.specificActs, CODE_SETS.specificAct, KEYWORD_ACT_CODES, options);
  checkTelehealth(issues, offer, careMode, acts);

  const patientType = offer.patientType;
  if (patientType !== undefined && patientType !== null) {
    if (typeof patientType.minAge === 'number' && typeof patientType.maxAge === 'number' && patientType.minAge > patientType.maxAge) {
      error(issues, 'age-range', 'patientType.maxAge', `L'âge maximal (${patientType.maxAge} ans) est inférieur à l'âge minimal (${patientType.minAge} ans) : inversez-les ou corrigez-les.`);
    }
    checkCodeList(issues, 'patientType.publics', patientType.publics, CODE_SETS.public, new Set(), options);
  }

  const rppsSeen = new Map<string, number>();
  (Array.isArray(offer.professionals) ? offer.professionals : []).forEach((professional, index) => {
    const field = `professionals[${index}]`;
    if (typeof professional?.rpps === 'string') {
      if (/^\d{11}$/.test(professional.rpps) && !rppsKeyValid(professional.rpps)) {
        error(issues, 'rpps-key', `${field}.rpps`, `La clé du numéro RPPS « ${professional.rpps} » est fausse (le 11e chiffre est une clé de Luhn) : vérifiez le numéro dans l'Annuaire santé.`);
      }
      const first = rppsSeen.get(professional.rpps);
      if (first !== undefined) {
        error(issues, 'rpps-duplicate', `${field}.rpps`, `Le professionnel RPPS ${professional.rpps} figure déjà en professionals[${first}] : ne le donnez qu'une fois.`);
      } else rppsSeen.set(professional.rpps, index);
    }
    checkedCode(issues, `${field}.profession`, professional?.profession, CODE_SETS.profession, options);
  });

  checkHours(issues, Array.isArray(offer.openingHours) ? offer.openingHours : [], options);

  (Array.isArray(offer.contacts) ? offer.contacts : []).forEach((contact, index) => {
    if (offer.sensitiveUnit === true && (contact?.confidentiality ?? 'public') === 'public') {
      warning(
        issues,
        'sensitive-public-contact',
        `contacts[${index}].confidentiality`,
        "L'offre est une unité sensible mais ce contact est visible du grand public : donnez confidentiality professionals ou regulation si ce n'est pas voulu.",
      );
    }
  });
  return issues;
}

export type OfferValidation =
  | { readonly ok: true; readonly offer: Offer; readonly warnings: readonly OfferIssue[] }
  /** 400 when the body breaks the schema, 422 when only business rules are broken. */
  | { readonly ok: false; readonly status: 400 | 422; readonly issues: readonly OfferIssue[] };

const schemaValidator = strictValidator(OFFER_SCHEMA);

/** Whether `field` is `prefix` or inside it (`sites[0].finess` is inside `sites[0]`). */
function within(field: string, prefix: string): boolean {
  return field === prefix || field.startsWith(`${prefix}.`) || field.startsWith(`${prefix}[`);
}

/**
 * The whole check of a request body: OFFER_SCHEMA (strict Ajv, all errors) and checkOffer, so that one
 * answer names every wrong field. Rule issues on a field the schema already rejected are left out.
 */
export function validateOffer(body: unknown, options: CodeOptions = {}): OfferValidation {
  const validate = schemaValidator();
  const schemaOk = validate(body);
  const schemaIssues = schemaOk ? [] : issuesFromSchemaErrors(validate.errors ?? []);
  let ruleIssues: OfferIssue[] = [];
  if (typeof body === 'object' && body !== null && !Array.isArray(body)) {
    try {
      ruleIssues = checkOffer(body as Offer, options);
    } catch {
      // A body too broken for the rules: the schema issues already say what is wrong.
      ruleIssues = [];
    }
  }
  const fresh = ruleIssues.filter((r) => !schemaIssues.some((s) => within(r.field, s.field) || within(s.field, r.field)));
  const errors = [...schemaIssues, ...fresh.filter((i) => i.severity === 'error')];
  if (errors.length > 0) {
    return { ok: false, status: schemaIssues.length > 0 ? 400 : 422, issues: [...schemaIssues, ...fresh] };
  }
  return { ok: true, offer: body as Offer, warnings: fresh };
}
