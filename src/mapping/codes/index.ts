// The national code sets the offer mapping codes with. The generated files are copies of
// ../shared/terminology (scripts/generate-offer-codes.ts; a test fails when they drift); g15, r200, r252
// and r283 were copied by hand from the ANS terminology IG, their `source` says from where.
import g15 from './g15-profession-sante.json' with { type: 'json' };
import r200 from './r200-canal-communication.json' with { type: 'json' };
import r210 from './r210-acte-specifique.json' with { type: 'json' };
import r211 from './r211-activite-operationnelle.json' with { type: 'json' };
import r213 from './r213-mode-prise-en-charge.json' with { type: 'json' };
import r227 from './r227-champ-activite.json' with { type: 'json' };
import r239 from './r239-public-pris-en-charge.json' with { type: 'json' };
import r252 from './r252-type-horaire.json' with { type: 'json' };
import r283 from './r283-niveau-confidentialite.json' with { type: 'json' };
import r338 from './r338-modalite-accueil.json' with { type: 'json' };

export interface CodeConcept {
  readonly display: string;
  readonly deprecated?: boolean;
  /** In the code system, outside the ROR value set bound (required) to the element. */
  readonly excluded?: boolean;
}

export interface CodeSet {
  readonly name: string;
  readonly system: string;
  readonly version: string;
  readonly valueSet: string | null;
  readonly valueSetVersion: string | null;
  readonly source: string;
  readonly concepts: Readonly<Record<string, CodeConcept>>;
}

// The JSON imports are typed by their literal content; seen through CodeSet they are all alike.
export const CODE_SETS = {
  activityField: r227 as CodeSet,
  operationalActivity: r211 as CodeSet,
  careMode: r213 as CodeSet,
  receptionModality: r338 as CodeSet,
  specificAct: r210 as CodeSet,
  public: r239 as CodeSet,
  profession: g15 as CodeSet,
  hoursType: r252 as CodeSet,
  channel: r200 as CodeSet,
  confidentiality: r283 as CodeSet,
} as const;
export type CodeSetName = keyof typeof CODE_SETS;

export function conceptOf(set: CodeSet, code: string): CodeConcept | undefined {
  return Object.hasOwn(set.concepts, code) ? set.concepts[code] : undefined;
}
