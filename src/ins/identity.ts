import type { InsCheckResult } from './check.ts';
import type { InsKind } from './oid.ts';

/**
 * The four identity statuses of the national identity-vigilance reference (RNIV, EXI SI 07). They are
 * exclusive and cross two facts: the traits were retrieved from INSi (I), and they were checked against
 * a high-trust identity document (C).
 */
export const IDENTITY_STATUSES = {
  PROV: { label: 'Identité provisoire', fromInsi: false, documentChecked: false },
  RECUP: { label: 'Identité récupérée', fromInsi: true, documentChecked: false },
  VALI: { label: 'Identité validée', fromInsi: false, documentChecked: true },
  QUAL: { label: 'Identité qualifiée', fromInsi: true, documentChecked: true },
} as const;

export type IdentityStatus = keyof typeof IDENTITY_STATUSES;

export function isIdentityStatus(value: string): value is IdentityStatus {
  return Object.hasOwn(IDENTITY_STATUSES, value);
}

/** The traits that must travel with the INS: without any of them the INS may not be shared. */
export interface ExchangeTraits {
  readonly birthFamilyName?: string;
  readonly birthGivenNames?: readonly string[];
  readonly birthDate?: string;
  readonly birthplaceCode?: string;
}

export const INS_EXCLUSION_CODES = {
  INS_ABSENT: "Aucun INS n'a été fourni.",
  IDENTITY_NOT_QUALIFIED: "L'identité n'est pas au statut qualifié (QUAL).",
  INS_INVALID: "L'INS n'a pas passé les contrôles.",
  TRAITS_INCOMPLETE: "Un trait d'identité qui doit accompagner l'INS manque.",
} as const;

export type InsExclusionCode = keyof typeof INS_EXCLUSION_CODES;

export type InsExchangeDecision =
  | { readonly allowed: true; readonly kind: InsKind; readonly ins: string }
  | { readonly allowed: false; readonly code: InsExclusionCode; readonly reason: string };

export interface InsExchangeInput {
  readonly identityStatus: IdentityStatus;
  /** The result of checkIns on the INS; undefined when the identity has no INS. */
  readonly insCheck: InsCheckResult | undefined;
  readonly traits: ExchangeTraits;
}

function refused(code: InsExclusionCode, reason: string): InsExchangeDecision {
  return { allowed: false, code, reason };
}

function notQualifiedReason(status: IdentityStatus): string {
  const label = IDENTITY_STATUSES[status].label;
  switch (status) {
    case 'RECUP':
      return `L'identité est au statut « ${label} » (RECUP) : l'INS ne peut être partagé qu'avec une identité qualifiée. Contrôlez l'identité sur une pièce d'identité à haut niveau de confiance pour la qualifier.`;
    case 'VALI':
      return `L'identité est au statut « ${label} » (VALI) : l'INS ne peut être partagé qu'avec une identité qualifiée. Récupérez ou vérifiez l'INS auprès du téléservice INSi pour la qualifier.`;
    default:
      return `L'identité est au statut « ${label} » (${status}) : l'INS ne peut être partagé qu'avec une identité qualifiée (INS vérifié par INSi et identité contrôlée sur une pièce d'identité).`;
  }
}

function missingTrait(traits: ExchangeTraits): string | undefined {
  if (!traits.birthFamilyName?.trim()) return 'le nom de naissance';
  if (!traits.birthGivenNames?.some((name) => name.trim() !== '')) return 'les prénoms de naissance';
  if (!traits.birthDate) return 'la date de naissance';
  if (!traits.birthplaceCode) return 'le code INSEE du lieu de naissance';
  return undefined;
}

/**
 * Whether the INS may go into an exchange (RNIV): only with a qualified identity, a valid INS and the
 * traits that must travel with it. When it may, gives the kind and value to share; when not, says why
 * in French.
 */
export function insExchangeDecision(input: InsExchangeInput): InsExchangeDecision {
  const { insCheck, identityStatus, traits } = input;
  if (insCheck === undefined || insCheck.ins === '') {
    return refused('INS_ABSENT', "Aucun INS n'a été fourni : le patient est transmis avec son seul identifiant local (IPP).");
  }
  if (identityStatus !== 'QUAL') return refused('IDENTITY_NOT_QUALIFIED', notQualifiedReason(identityStatus));
  if (!insCheck.valid || insCheck.kind === undefined) {
    const errors = insCheck.issues.filter((issue) => issue.severity === 'error').map((issue) => issue.message);
    return refused('INS_INVALID', `L'INS est invalide : ${errors.join(' ')}`);
  }
  const missing = missingTrait(traits);
  if (missing !== undefined) {
    return refused('TRAITS_INCOMPLETE', `L'INS ne peut être partagé sans ${missing} : complétez les traits d'identité.`);
  }
  // INSi never returns 99999 (unknown place abroad), so a qualified identity carrying it has been edited
  // by hand; FR Core says the same (invariant fr-core-3).
  if (traits.birthplaceCode === '99999') {
    return refused(
      'TRAITS_INCOMPLETE',
      "Le lieu de naissance 99999 (pays inconnu) n'est pas admis avec un INS : reprenez le lieu de naissance renvoyé par INSi.",
    );
  }
  return { allowed: true, kind: insCheck.kind, ins: insCheck.ins };
}
