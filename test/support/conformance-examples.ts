// The example instances of profiles/examples, shared by the unit tests (in-process validator) and the
// integration tests (HAPI's $validate), so that both judge the same files.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Resource } from '@medplum/fhirtypes';
import { frCorePackage, PATHS } from '../../src/fhir/validation/sources.ts';

export interface Example {
  readonly file: string;
  readonly resource: Resource;
}

export interface BrokenExample extends Example {
  /** The element the broken rule is about; a validator must report an error on it or around it. */
  readonly expression: string;
  readonly rule: string;
}

function read(dir: string): Example[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json') && f !== 'expected.json')
    .sort()
    .map((file) => ({ file, resource: JSON.parse(readFileSync(join(dir, file), 'utf8')) as Resource }));
}

export function validExamples(): Example[] {
  return read(join(PATHS.examples, 'valid'));
}

export function brokenExamples(): BrokenExample[] {
  const dir = join(PATHS.examples, 'invalid');
  const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Record<string, { expression: string; rule: string }>;
  return read(dir).map((example) => {
    const expectation = expected[example.file];
    if (!expectation) throw new Error(`profiles/examples/invalid/expected.json says nothing of ${example.file}`);
    return { ...example, ...expectation };
  });
}

/**
 * HAPI writes paths its own way: `Bundle.entry[0].resource/*Patient/null*\/.extension[0].value.ofType(Coding)`.
 * This gives the path we write: `Bundle.entry[0].resource.extension[0].valueCoding`.
 */
export function normalizeExpression(expression: string): string {
  return expression
    .replace(/\/\*[^*]*\*\//g, '')
    .replace(/\.value\.ofType\((\w+)\)/g, (_, type: string) => `.value${type.charAt(0).toUpperCase()}${type.slice(1)}`)
    .replace(/\.ofType\((\w+)\)/g, '');
}

/**
 * Two validators "point at the same element" when one path contains the other: HAPI reports a missing
 * child on its parent (`Consent.provision`) where we name the child (`Consent.provision.type`), and a
 * wrong code on the code (`Encounter.class.code`) where we name the Coding (`Encounter.class`).
 */
export function sameElement(a: string, b: string): boolean {
  const [x, y] = [normalizeExpression(a), normalizeExpression(b)];
  const within = (inner: string, outer: string): boolean =>
    inner === outer || (inner.startsWith(outer) && /^[.[]/.test(inner.slice(outer.length)));
  return within(x, y) || within(y, x);
}

/** The examples FR Core 2.2.0-ballot-2 ships (package/example/), as the package holds them. */
export function frCoreExamples(): Example[] {
  return frCorePackage()
    .files.filter((f) => /^package\/example\/[^/]+\.json$/.test(f.path))
    .map((f) => ({ file: f.path.slice('package/example/'.length), resource: JSON.parse(f.content.toString('utf8')) as Resource }))
    .sort((a, b) => a.file.localeCompare(b.file));
}
