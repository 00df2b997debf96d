import { finding, type Finding } from './findings.ts';
import { birthMonthDigits, birthYearDigits, hasRealBirthMonth, isBornAbroad, isOverseas } from './nir.ts';

export type Sex = 'male' | 'female' | 'other' | 'unknown';

/** The identity traits the INS can be compared with; every one is optional. */
export interface InsTraits {
  readonly sex?: Sex;
  /** FHIR date: YYYY, YYYY-MM or YYYY-MM-DD. */
  readonly birthDate?: string;
  /** INSEE COG code: a commune (5 characters, 2A/2B for Corsica) or 99 + the country code. */
  readonly birthplaceCode?: string;
}

const ZERO = 48;

function isDigit(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  return c >= ZERO && c <= ZERO + 9;
}

function twoDigits(s: string, i: number): number {
  return (s.charCodeAt(i) - ZERO) * 10 + (s.charCodeAt(i + 1) - ZERO);
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** Compares the traits with a NIR/NIA already known to be 15 valid characters. */
export function collectTraitFindings(ins: string, traits: InsTraits, out: Finding[]): void {
  if (traits.sex !== undefined) checkSex(ins, traits.sex, out);
  if (traits.birthDate !== undefined) checkBirthDate(ins, traits.birthDate, out);
  if (traits.birthplaceCode !== undefined) checkBirthplace(ins, traits.birthplaceCode, out);
}

// Only male and female are coded in the number: 'other' and 'unknown' carry no claim to contradict.
function checkSex(ins: string, sex: Sex, out: Finding[]): void {
  const digit = ins.charCodeAt(0) - ZERO;
  if (sex === 'male' && digit === 2) {
    out.push(finding('INS_SEX_MISMATCH', "Le sexe saisi est « homme » mais l'INS commence par 2 (femme) : vérifiez le sexe ou l'INS."));
  } else if (sex === 'female' && digit === 1) {
    out.push(finding('INS_SEX_MISMATCH', "Le sexe saisi est « femme » mais l'INS commence par 1 (homme) : vérifiez le sexe ou l'INS."));
  }
}

function isFhirDate(value: string): boolean {
  const n = value.length;
  if (n !== 4 && n !== 7 && n !== 10) return false;
  for (let i = 0; i < 4; i++) if (!isDigit(value, i)) return false;
  if (n === 4) return true;
  if (value[4] !== '-' || !isDigit(value, 5) || !isDigit(value, 6)) return false;
  const month = twoDigits(value, 5);
  if (month < 1 || month > 12) return false;
  if (n === 7) return true;
  if (value[7] !== '-' || !isDigit(value, 8) || !isDigit(value, 9)) return false;
  const day = twoDigits(value, 8);
  return day >= 1 && day <= 31;
}

function checkBirthDate(ins: string, birthDate: string, out: Finding[]): void {
  if (!isFhirDate(birthDate)) {
    out.push(finding('INS_BIRTHDATE_INVALID', `La date de naissance « ${birthDate} » n'est pas au format AAAA-MM-JJ : corrigez-la.`));
    return;
  }
  const year = twoDigits(birthDate, 2);
  const insYear = birthYearDigits(ins);
  if (year !== insYear) {
    out.push(
      finding(
        'INS_BIRTH_YEAR_MISMATCH',
        `L'année de naissance ${birthDate.slice(0, 4)} ne correspond pas à l'INS, qui indique une année en ${pad2(insYear)} : vérifiez la date de naissance ou l'INS.`,
      ),
    );
  }
  // A month of 20–30 or 50+ in the number codes an incomplete civil record: it says nothing to compare.
  if (birthDate.length < 7 || !hasRealBirthMonth(ins)) return;
  const month = twoDigits(birthDate, 5);
  const insMonth = birthMonthDigits(ins);
  if (month !== insMonth) {
    out.push(
      finding(
        'INS_BIRTH_MONTH_MISMATCH',
        `Le mois de naissance ${pad2(month)} ne correspond pas à l'INS, qui indique le mois ${pad2(insMonth)} : vérifiez la date de naissance ou l'INS.`,
      ),
    );
  }
}

function isInseeCode(code: string): boolean {
  if (code.length !== 5) return false;
  for (let i = 2; i < 5; i++) if (!isDigit(code, i)) return false;
  if (isDigit(code, 0) && isDigit(code, 1)) return true;
  return code[0] === '2' && (code[1] === 'A' || code[1] === 'B');
}

// Before the 1976 split every Corsican birth was numbered 20; today's COG gives the same commune 2A/2B.
function samePlace(insPlace: string, code: string): boolean {
  if (insPlace === code) return true;
  return insPlace.startsWith('20') && code[0] === '2' && (code[1] === 'A' || code[1] === 'B') && insPlace.slice(2) === code.slice(2);
}

// Births coded in the number under 91–96 (Algeria, Morocco, Tunisia before independence) or 98x (former
// overseas territories, e.g. the Comoros) can rightly show a foreign country in today's COG.
function isFormerTerritory(ins: string): boolean {
  const department = twoDigits(ins, 5);
  return (department >= 91 && department <= 96) || department === 98;
}

function checkBirthplace(ins: string, code: string, out: Finding[]): void {
  if (!isInseeCode(code)) {
    out.push(
      finding(
        'INS_BIRTHPLACE_INVALID',
        `Le lieu de naissance « ${code} » n'est pas un code INSEE de 5 caractères (commune, ou 99 suivi du code pays) : corrigez-le.`,
      ),
    );
    return;
  }
  const insPlace = ins.slice(5, 10);
  const codeAbroad = code.startsWith('99');
  if (isBornAbroad(ins)) {
    if (!codeAbroad) {
      out.push(
        finding(
          'INS_BORN_ABROAD_CONFLICT',
          `L'INS indique une naissance à l'étranger (pays ${insPlace}) mais le lieu de naissance ${code} est une commune française : vérifiez le lieu de naissance ou l'INS.`,
        ),
      );
    } else if (code !== insPlace) {
      out.push(
        finding(
          'INS_BIRTH_COUNTRY_MISMATCH',
          `Le pays de naissance ${code} diffère de celui codé dans l'INS (${insPlace}) : vérifiez le pays de naissance.`,
        ),
      );
    }
    return;
  }
  if (codeAbroad) {
    if (isFormerTerritory(ins)) {
      out.push(
        finding(
          'INS_BIRTHPLACE_FORMER_TERRITORY',
          `L'INS code le lieu ${insPlace} (ancien territoire français) et le lieu de naissance est le pays ${code} : vérifiez que la personne est née sur ce territoire avant son indépendance.`,
        ),
      );
      return;
    }
    out.push(
      finding(
        'INS_BORN_ABROAD_CONFLICT',
        `L'INS indique une naissance en France (lieu ${insPlace}) mais le lieu de naissance ${code} est un pays étranger : vérifiez le lieu de naissance ou l'INS.`,
      ),
    );
    return;
  }
  if (!samePlace(insPlace, code)) {
    const where = isOverseas(ins) ? "commune d'outre-mer" : 'commune';
    out.push(
      finding(
        'INS_BIRTHPLACE_MISMATCH',
        `La ${where} de naissance ${code} diffère de celle codée dans l'INS (${insPlace}) ; c'est normal si la commune a fusionné ou changé de code, sinon vérifiez le lieu de naissance.`,
      ),
    );
  }
}
