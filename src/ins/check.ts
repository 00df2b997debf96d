import { finding, hasError, type Finding } from './findings.ts';
import { collectStructureFindings, firstInvalidCharacter, INS_LENGTH } from './nir.ts';
import { INS_OIDS, insKindOfOid, isTestKind, type InsKind, type InsOid } from './oid.ts';
import { collectTraitFindings, type InsTraits } from './traits.ts';

export interface InsCheckInput {
  readonly ins: string | undefined;
  /** `urn:oid:…` or bare OID; INS-NIR when absent. */
  readonly oid?: string;
  readonly traits?: InsTraits;
}

export interface InsCheckOptions {
  /** Test (…4.10) and demo (…4.11) identities are refused unless this is true. */
  readonly allowTestIdentities?: boolean;
}

export interface InsCheckResult {
  /** True when no finding is an error. */
  readonly valid: boolean;
  /** The number as checked: outer whitespace removed. */
  readonly ins: string;
  readonly kind: InsKind | undefined;
  /** The OID in its `urn:oid:` form, undefined when the OID given is not an INS one. */
  readonly oid: InsOid | undefined;
  readonly test: boolean;
  readonly issues: readonly Finding[];
}

const NO_OPTIONS: InsCheckOptions = Object.freeze({});

function isSpace(code: number): boolean {
  return code === 32 || code === 9 || code === 10 || code === 13 || code === 0xa0 || code === 0xfeff;
}

// Outer whitespace is a form or copy-paste artefact and is dropped; inner spaces are not: an INS is an
// identifier that is stored and searched byte for byte, so "1 84 12…" (the Vitale card layout) is refused
// with a message rather than silently rewritten, and every writer ends up sending the same value.
function trimOuter(value: string): string {
  const n = value.length;
  if (n === 0 || (!isSpace(value.charCodeAt(0)) && !isSpace(value.charCodeAt(n - 1)))) return value;
  return value.trim();
}

function containsSpace(value: string): boolean {
  for (let i = 0; i < value.length; i++) if (isSpace(value.charCodeAt(i))) return true;
  return false;
}

function lengthFinding(ins: string): Finding {
  if (containsSpace(ins)) {
    return finding('INS_LENGTH', `L'INS doit compter exactement 15 caractères sans espace ; il en compte ${ins.length} avec des espaces : retirez les espaces.`);
  }
  return finding('INS_LENGTH', `L'INS doit compter exactement 15 caractères (13 + 2 de clé) ; il en compte ${ins.length} : vérifiez la saisie.`);
}

function characterFinding(ins: string, index: number): Finding {
  const char = ins[index] ?? '';
  const hint =
    index === 6 && (char === 'a' || char === 'b')
      ? ' : écrivez 2A ou 2B en majuscules.'
      : " : l'INS ne contient que des chiffres, et 2A ou 2B en positions 6-7 pour la Corse.";
  return finding('INS_CHARACTERS', `Le caractère « ${char} » en position ${index + 1} n'est pas admis${hint}`);
}

function kindFindings(oid: string | undefined, options: InsCheckOptions, out: Finding[]): InsKind | undefined {
  if (oid === undefined) return 'INS-NIR';
  const trimmed = trimOuter(oid);
  const kind = insKindOfOid(trimmed);
  if (kind === undefined) {
    out.push(
      finding(
        'INS_OID_UNKNOWN',
        `L'OID « ${trimmed} » n'est pas celui d'un INS : utilisez ${INS_OIDS['INS-NIR']} (NIR) ou ${INS_OIDS['INS-NIA']} (NIA).`,
      ),
    );
    return undefined;
  }
  if (isTestKind(kind) && options.allowTestIdentities !== true) {
    out.push(
      finding(
        'INS_TEST_IDENTITY_REFUSED',
        `L'OID ${INS_OIDS[kind]} désigne une identité de ${kind === 'INS-NIR-TEST' ? 'test' : 'démonstration'}, refusée ici : envoyez l'INS d'un vrai patient.`,
      ),
    );
  }
  return kind;
}

/**
 * Checks an INS (NIR or NIA) and, when traits are given, its coherence with them. Never throws: every
 * problem is a finding, and the INS is valid when no finding is an error.
 */
export function checkIns(input: InsCheckInput, options: InsCheckOptions = NO_OPTIONS): InsCheckResult {
  const issues: Finding[] = [];
  const kind = kindFindings(input.oid, options, issues);
  const ins = input.ins === undefined ? '' : trimOuter(input.ins);
  collectNumberFindings(ins, input.traits, issues);
  return {
    valid: !hasError(issues),
    ins,
    kind,
    oid: kind === undefined ? undefined : INS_OIDS[kind],
    test: kind !== undefined && isTestKind(kind),
    issues,
  };
}

function collectNumberFindings(ins: string, traits: InsTraits | undefined, out: Finding[]): void {
  if (ins.length === 0) {
    out.push(finding('INS_MISSING', "Aucun INS n'a été fourni : renseignez le matricule INS (15 caractères)."));
    return;
  }
  if (ins.length !== INS_LENGTH) {
    out.push(lengthFinding(ins));
    return;
  }
  const bad = firstInvalidCharacter(ins, INS_LENGTH);
  if (bad !== -1) {
    out.push(characterFinding(ins, bad));
    return;
  }
  collectStructureFindings(ins, out);
  if (traits !== undefined) collectTraitFindings(ins, traits, out);
}
