import { finding, type Finding } from './findings.ts';

// Layout of the 15 characters (0-based): 0 sex, 1-2 year, 3-4 month, 5-6 department (5-7 overseas),
// 7-9 commune or country (8-9 overseas), 10-12 order number, 13-14 key.
export const INS_LENGTH = 15;

const ZERO = 48;
const CHAR_A = 65;
const CHAR_B = 66;

function digit(s: string, i: number): number {
  const d = s.charCodeAt(i) - ZERO;
  return d >= 0 && d <= 9 ? d : -1;
}

function twoDigits(s: string, i: number): number {
  return (s.charCodeAt(i) - ZERO) * 10 + (s.charCodeAt(i + 1) - ZERO);
}

function threeDigits(s: string, i: number): number {
  return (s.charCodeAt(i) - ZERO) * 100 + (s.charCodeAt(i + 1) - ZERO) * 10 + (s.charCodeAt(i + 2) - ZERO);
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

function isCorsicaLetter(code: number): boolean {
  return code === CHAR_A || code === CHAR_B;
}

/** Index of the first character that cannot appear in a NIR/NIA, or -1. Only 2A/2B may hold a letter. */
export function firstInvalidCharacter(s: string, length: number): number {
  for (let i = 0; i < length; i++) {
    if (digit(s, i) >= 0) continue;
    if (i === 6 && s.charCodeAt(5) === ZERO + 2 && isCorsicaLetter(s.charCodeAt(6))) continue;
    return i;
  }
  return -1;
}

// 10^7 mod 97: the 13 digits are read as 6 high digits and 7 low ones, both small integers, so that
// n mod 97 = ((high mod 97) × (10^7 mod 97) + low) mod 97 never leaves int32 (no BigInt, no allocation,
// and no floating-point modulo, which V8 runs through a slow fmod). Corsica is read as 19 (2A) and 18 (2B).
const TEN_POW_7_MOD_97 = 76;

function keyOfCheckedBody(s: string): number {
  let high = 0;
  for (let i = 0; i < 5; i++) high = high * 10 + (s.charCodeAt(i) - ZERO);
  const c6 = s.charCodeAt(6);
  let d5 = s.charCodeAt(5) - ZERO;
  let d6 = c6 - ZERO;
  if (c6 === CHAR_A) {
    d5 = 1;
    d6 = 9;
  } else if (c6 === CHAR_B) {
    d5 = 1;
    d6 = 8;
  }
  high = high * 10 + d5;
  let low = d6;
  for (let i = 7; i < 13; i++) low = low * 10 + (s.charCodeAt(i) - ZERO);
  return 97 - (((high % 97) * TEN_POW_7_MOD_97 + low) % 97);
}

/**
 * The control key (1–97) of the first 13 characters of a NIR/NIA: 97 − (number mod 97), with 2A read
 * as 19 and 2B as 18. Throws a RangeError when the argument is not 13 digits (or 2A/2B at 6–7).
 */
export function nirKey(thirteen: string): number {
  if (thirteen.length !== 13 || firstInvalidCharacter(thirteen, 13) !== -1) {
    throw new RangeError('nirKey expects the 13 first characters of a NIR: digits, and 2A or 2B at positions 6-7');
  }
  return keyOfCheckedBody(thirteen);
}

/** Whether the department code (positions 6–7, or 6–8 overseas) says the person was born abroad. */
export function isBornAbroad(s: string): boolean {
  return s.charCodeAt(5) === ZERO + 9 && s.charCodeAt(6) === ZERO + 9;
}

/** Whether the place uses the overseas layout: 3-digit department (97x, 98x) and 2-digit commune. */
export function isOverseas(s: string): boolean {
  return s.charCodeAt(5) === ZERO + 9 && (s.charCodeAt(6) === ZERO + 7 || s.charCodeAt(6) === ZERO + 8);
}

/** Whether the month positions hold a real month, as opposed to a code for an incomplete civil record. */
export function hasRealBirthMonth(s: string): boolean {
  const month = twoDigits(s, 3);
  return month >= 1 && month <= 12;
}

export function birthYearDigits(s: string): number {
  return twoDigits(s, 1);
}

export function birthMonthDigits(s: string): number {
  return twoDigits(s, 3);
}

/**
 * Structural findings on a string already known to be 15 valid characters. Appends to `out` so that a
 * valid number costs no allocation.
 */
export function collectStructureFindings(s: string, out: Finding[]): void {
  checkSexDigit(s, out);
  checkBirthMonth(s, out);
  checkPlace(s, out);
  checkOrderNumber(s, out);
  checkKey(s, out);
}

// Only 1 and 2 are accepted, for the NIR and the NIA alike. 3/4 (foreigners being registered) and 7/8
// (temporary numbers given by the health insurance) exist, but they are numbers in waiting that INSi never
// returns as an INS: accepting them would let a temporary number travel as a national identifier. They get
// their own code because "this is a temporary number" is what the person at the desk needs to hear.
function checkSexDigit(s: string, out: Finding[]): void {
  const sex = digit(s, 0);
  if (sex === 1 || sex === 2) return;
  if (sex === 3 || sex === 4 || sex === 7 || sex === 8) {
    out.push(
      finding(
        'INS_TEMPORARY_NUMBER',
        `Le numéro commence par ${sex} : c'est un numéro provisoire, pas un INS. Récupérez l'INS auprès du téléservice INSi.`,
      ),
    );
    return;
  }
  out.push(
    finding(
      'INS_SEX_DIGIT_INVALID',
      `Le premier chiffre de l'INS est ${sex} ; il doit valoir 1 (homme) ou 2 (femme) : vérifiez la saisie.`,
    ),
  );
}

// 20–30 and 50 and above mark people registered from an incomplete civil record: they are valid numbers
// whose month says nothing about the birth date.
function checkBirthMonth(s: string, out: Finding[]): void {
  const month = twoDigits(s, 3);
  if ((month >= 1 && month <= 12) || (month >= 20 && month <= 30) || month >= 50) return;
  out.push(
    finding(
      'INS_BIRTH_MONTH_INVALID',
      `Le mois de naissance de l'INS (positions 4-5) vaut ${pad2(month)} ; il doit valoir 01 à 12 (ou 20 à 30, 50 à 99 pour un état civil incomplet) : vérifiez la saisie.`,
    ),
  );
}

function checkPlace(s: string, out: Finding[]): void {
  if (isCorsicaLetter(s.charCodeAt(6))) {
    checkCommune(s, 7, 3, out);
    return;
  }
  const department = twoDigits(s, 5);
  if (department === 0) {
    out.push(finding('INS_DEPARTMENT_INVALID', "Le département de naissance de l'INS (positions 6-7) vaut 00 : vérifiez la saisie."));
    return;
  }
  // 01–96: metropolitan departments, 20 for Corsica before its 1976 split, and 91–96 also for Algeria,
  // Morocco and Tunisia before independence (service-public.fr F33078; DOMAIN.md stops at 95, the
  // official page wins).
  if (department <= 96) {
    checkCommune(s, 7, 3, out);
    return;
  }
  if (department === 99) {
    checkCommune(s, 7, 3, out);
    return;
  }
  const third = s.charCodeAt(7) - ZERO;
  // 971–978: overseas departments and collectivities; 984–989: TAAF, Mayotte before 2011, Wallis-et-Futuna,
  // French Polynesia, New Caledonia, Clipperton.
  const known = department === 97 ? third >= 1 && third <= 8 : third >= 4;
  if (!known) {
    out.push(
      finding(
        'INS_DEPARTMENT_INVALID',
        `Le département de naissance d'outre-mer de l'INS (positions 6-8) vaut ${department}${third} ; il n'existe pas : vérifiez la saisie.`,
      ),
    );
    return;
  }
  checkCommune(s, 8, 2, out);
}

// No commune of the COG and no INSEE country is numbered zero, so an all-zero code is a typing error.
function checkCommune(s: string, start: number, width: number, out: Finding[]): void {
  const value = width === 3 ? threeDigits(s, start) : twoDigits(s, start);
  if (value !== 0) return;
  const what = isBornAbroad(s) ? 'Le code pays de naissance' : 'Le code commune de naissance';
  out.push(
    finding(
      'INS_COMMUNE_INVALID',
      `${what} de l'INS (positions ${start + 1}-${start + width}) vaut ${'0'.repeat(width)} : vérifiez la saisie.`,
    ),
  );
}

function checkOrderNumber(s: string, out: Finding[]): void {
  if (threeDigits(s, 10) !== 0) return;
  out.push(
    finding('INS_ORDER_NUMBER_INVALID', "Le numéro d'ordre de l'INS (positions 11-13) vaut 000 ; il va de 001 à 999 : vérifiez la saisie."),
  );
}

function checkKey(s: string, out: Finding[]): void {
  const given = twoDigits(s, 13);
  const expected = keyOfCheckedBody(s);
  if (given === expected) return;
  if (given === 0 || given > 97) {
    out.push(
      finding(
        'INS_KEY_OUT_OF_RANGE',
        `La clé de l'INS est ${pad2(given)} ; une clé va de 01 à 97 et le numéro donne ${pad2(expected)} : vérifiez la saisie.`,
      ),
    );
    return;
  }
  out.push(
    finding('INS_KEY_MISMATCH', `La clé de l'INS est ${pad2(given)} mais le numéro donne ${pad2(expected)} : vérifiez la saisie.`),
  );
}
