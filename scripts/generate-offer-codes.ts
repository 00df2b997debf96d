// Copies the national code sets that the offer mapping needs from ../shared/terminology into
// src/mapping/codes/*.json, so that the mapping room reads nothing from the file system at run time.
// Run by hand when the shared terminology moves:
//   sh scripts/node.sh scripts/generate-offer-codes.ts [terminology dir]
// test/unit/mapping/offer-codes.test.ts fails when the copies drift from the shared files.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface Property {
  code: string;
  valueCode?: string;
}
interface Concept {
  code: string;
  display?: string;
  property?: Property[];
}
interface CodeSystemFile {
  url: string;
  version: string;
  concept: Concept[];
}
interface ValueSetFile {
  url: string;
  version: string;
  compose: { include: { system: string; concept: Concept[] }[] };
}

/** One entry per code; the flags are written only when set, to keep the files readable. */
export interface GeneratedConcept {
  display: string;
  deprecated?: true;
  /** The code is in the code system but not in the ROR value set that the profile binds (required). */
  excluded?: true;
}
export interface GeneratedCodeSet {
  name: string;
  system: string;
  version: string;
  valueSet: string | null;
  valueSetVersion: string | null;
  source: string;
  concepts: Record<string, GeneratedConcept>;
}

interface Source {
  file: string;
  name: string;
  codeSystem?: string;
  valueSet?: string;
}

export const SOURCES: readonly Source[] = [
  { file: 'r227-champ-activite.json', name: 'TRE_R227-ChampActivite', codeSystem: 'TRE_R227-ChampActivite.json', valueSet: 'JDV_J20-ChampActivite-ROR.json' },
  // JDV_J17-ActiviteOperationnelle-ROR is not in the shared terminology: the code system alone is copied
  // and its deprecated codes are treated as outside the value set (as J19, J226 and J16 do).
  { file: 'r211-activite-operationnelle.json', name: 'TRE_R211-ActiviteOperationnelle', codeSystem: 'TRE_R211-ActiviteOperationnelle.json' },
  { file: 'r213-mode-prise-en-charge.json', name: 'TRE_R213-ModePriseEnCharge', codeSystem: 'TRE_R213-ModePriseEnCharge.json', valueSet: 'JDV_J19-ModePriseEnCharge-ROR.json' },
  { file: 'r338-modalite-accueil.json', name: 'TRE_R338-ModaliteAccueil', codeSystem: 'TRE_R338-ModaliteAccueil.json', valueSet: 'JDV_J226-ModaliteAccueil-ROR.json' },
  { file: 'r210-acte-specifique.json', name: 'TRE_R210-ActeSpecifique', codeSystem: 'TRE_R210-ActeSpecifique.json', valueSet: 'JDV_J16-ActeSpecifique-ROR.json' },
  // TRE_R239 itself is not shared: the value set's own concepts (code + display) are the source.
  { file: 'r239-public-pris-en-charge.json', name: 'TRE_R239-PublicPrisEnCharge', valueSet: 'JDV_J29-PublicPrisEnCharge-ROR.json' },
];

function readJson<T>(dir: string, file: string): T {
  return JSON.parse(readFileSync(`${dir}/${file}`, 'utf8')) as T;
}

function isDeprecated(concept: Concept): boolean {
  return (concept.property ?? []).some((p) => p.code === 'status' && p.valueCode === 'deprecated');
}

export function generatedCodeSet(dir: string, source: Source): GeneratedCodeSet {
  const vs = source.valueSet === undefined ? undefined : readJson<ValueSetFile>(dir, source.valueSet);
  const cs = source.codeSystem === undefined ? undefined : readJson<CodeSystemFile>(dir, source.codeSystem);
  const include = vs?.compose.include[0];
  if (vs !== undefined && (vs.compose.include.length !== 1 || include === undefined)) {
    throw new Error(`${source.valueSet}: one include expected`);
  }
  const system = cs?.url ?? include?.system;
  if (system === undefined) throw new Error(`${source.name}: no code system`);
  if (cs !== undefined && include !== undefined && include.system !== cs.url) {
    throw new Error(`${source.valueSet} includes ${include.system}, not ${cs.url}`);
  }
  const inValueSet = include === undefined ? undefined : new Set(include.concept.map((c) => c.code));
  const concepts: Record<string, GeneratedConcept> = {};
  for (const concept of cs?.concept ?? include?.concept ?? []) {
    const entry: GeneratedConcept = { display: concept.display ?? concept.code };
    const deprecated = isDeprecated(concept);
    if (deprecated) entry.deprecated = true;
    const excluded = inValueSet === undefined ? deprecated : !inValueSet.has(concept.code);
    if (excluded) entry.excluded = true;
    concepts[concept.code] = entry;
  }
  return {
    name: source.name,
    system,
    version: cs?.version ?? vs?.version ?? '',
    valueSet: vs?.url ?? null,
    valueSetVersion: vs?.version ?? null,
    source: [source.codeSystem, source.valueSet].filter((f) => f !== undefined).map((f) => `shared/terminology/${f}`).join(' + '),
    concepts,
  };
}

export function generatedText(set: GeneratedCodeSet): string {
  return `${JSON.stringify(set, null, 1)}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const here = new URL('..', import.meta.url);
  const dir = process.argv[2] ?? fileURLToPath(new URL('../shared/terminology', here));
  for (const source of SOURCES) {
    const target = new URL(`src/mapping/codes/${source.file}`, here);
    writeFileSync(target, generatedText(generatedCodeSet(dir, source)));
    console.log(`wrote ${fileURLToPath(target)}`);
  }
}
