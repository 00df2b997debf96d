import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type {
  CodeSystem,
  CodeSystemConcept,
  Coding,
  ConceptMap,
  ValueSet,
  ValueSetComposeInclude,
} from '@medplum/fhirtypes';
import { UnknownCodeError } from './errors.ts';

export type TerminologyResource = CodeSystem | ValueSet | ConceptMap;

/** Whether a code belongs to a value set; `unknown` when what it takes to decide is not shipped. */
export type Membership = 'member' | 'not-member' | 'unknown';

/** What a code system says of a code: `unknown-system` and `incomplete` (a fragment) cannot say no. */
export type CodeStatus = 'known' | 'unknown-code' | 'unknown-system' | 'incomplete';

export interface TranslateOptions {
  /** Only a target in this code system. */
  readonly target?: string;
  /** Path of the field in the request body, carried by the UnknownCodeError. */
  readonly field?: string;
}

export interface Terminology {
  /**
   * Local code → national coding, through the ConceptMaps whose source is `source`: a ConceptMap url,
   * its sourceUri/sourceCanonical, or a group's source code system. Throws UnknownCodeError.
   */
  translate(source: string, localCode: string, options?: TranslateOptions): Coding;
  /** The display of a code in a shipped code system; undefined when unknown. */
  lookup(system: string, code: string): string | undefined;
  /** True when the value set is shipped and has the code (false when it cannot tell). */
  isInValueSet(valueSetUrl: string, system: string, code: string): boolean;
  /** Three-valued membership, for validators. */
  checkValueSet(valueSetUrl: string, system: string | undefined, code: string): Membership;
  checkCode(system: string, code: string): CodeStatus;
  hasValueSet(url: string): boolean;
  codeSystem(url: string): CodeSystem | undefined;
  valueSet(url: string): ValueSet | undefined;
  readonly counts: { readonly codeSystems: number; readonly valueSets: number; readonly conceptMaps: number };
}

export const MAPPINGS_DIR = fileURLToPath(new URL('../../mappings/', import.meta.url));

/** Canonical references may carry a version (`url|4.0.1`): we hold one version of each. */
export function stripVersion(canonical: string): string {
  const bar = canonical.indexOf('|');
  return bar === -1 ? canonical : canonical.slice(0, bar);
}

interface IndexedCodeSystem {
  readonly resource: CodeSystem;
  readonly complete: boolean;
  readonly caseSensitive: boolean;
  readonly concepts: Map<string, { readonly display?: string; readonly parents: readonly string[] }>;
}

function indexCodeSystem(cs: CodeSystem): IndexedCodeSystem {
  // FHIR leaves caseSensitive unspecified by default; the ANS code systems say false.
  const caseSensitive = cs.caseSensitive !== false;
  const concepts = new Map<string, { display?: string; parents: string[] }>();
  const key = (code: string): string => (caseSensitive ? code : code.toLowerCase());
  const walk = (list: readonly CodeSystemConcept[] | undefined, parent: string | undefined): void => {
    for (const concept of list ?? []) {
      const k = key(concept.code ?? '');
      const entry = concepts.get(k) ?? { display: concept.display, parents: [] };
      if (parent !== undefined) entry.parents.push(parent);
      // A `parent` property is the other way CodeSystems state their hierarchy.
      for (const p of concept.property ?? []) if (p.code === 'parent' && p.valueCode) entry.parents.push(key(p.valueCode));
      concepts.set(k, entry);
      walk(concept.concept, k);
    }
  };
  walk(cs.concept, undefined);
  return { resource: cs, complete: cs.content === 'complete', caseSensitive, concepts };
}

type Predicate = (system: string | undefined, code: string) => Membership;

const orMembership = (a: Membership, b: Membership): Membership =>
  a === 'member' || b === 'member' ? 'member' : a === 'unknown' || b === 'unknown' ? 'unknown' : 'not-member';
const andMembership = (a: Membership, b: Membership): Membership =>
  a === 'not-member' || b === 'not-member' ? 'not-member' : a === 'unknown' || b === 'unknown' ? 'unknown' : 'member';

class InMemoryTerminology implements Terminology {
  private readonly codeSystems = new Map<string, IndexedCodeSystem>();
  private readonly valueSets = new Map<string, ValueSet>();
  private readonly conceptMaps: ConceptMap[] = [];
  private readonly compiled = new Map<string, Predicate>();

  constructor(resources: Iterable<TerminologyResource>) {
    // Later sources win: mappings/ overrides what the FHIR core or FR Core packages say of the same url.
    for (const resource of resources) {
      if (resource.resourceType === 'CodeSystem' && resource.url) this.codeSystems.set(resource.url, indexCodeSystem(resource));
      else if (resource.resourceType === 'ValueSet' && resource.url) this.valueSets.set(resource.url, resource);
      else if (resource.resourceType === 'ConceptMap') this.conceptMaps.push(resource);
    }
  }

  get counts(): Terminology['counts'] {
    return { codeSystems: this.codeSystems.size, valueSets: this.valueSets.size, conceptMaps: this.conceptMaps.length };
  }

  codeSystem(url: string): CodeSystem | undefined {
    return this.codeSystems.get(stripVersion(url))?.resource;
  }

  valueSet(url: string): ValueSet | undefined {
    return this.valueSets.get(stripVersion(url));
  }

  hasValueSet(url: string): boolean {
    return this.valueSets.has(stripVersion(url));
  }

  private concept(system: string, code: string): { display?: string; parents: readonly string[] } | undefined {
    const cs = this.codeSystems.get(stripVersion(system));
    if (!cs) return undefined;
    return cs.concepts.get(cs.caseSensitive ? code : code.toLowerCase());
  }

  lookup(system: string, code: string): string | undefined {
    return this.concept(system, code)?.display;
  }

  checkCode(system: string, code: string): CodeStatus {
    const cs = this.codeSystems.get(stripVersion(system));
    if (!cs) return 'unknown-system';
    if (cs.concepts.has(cs.caseSensitive ? code : code.toLowerCase())) return 'known';
    return cs.complete ? 'unknown-code' : 'incomplete';
  }

  checkValueSet(valueSetUrl: string, system: string | undefined, code: string): Membership {
    return this.predicate(stripVersion(valueSetUrl))(system, code);
  }

  isInValueSet(valueSetUrl: string, system: string, code: string): boolean {
    return this.checkValueSet(valueSetUrl, system, code) === 'member';
  }

  private predicate(url: string): Predicate {
    let compiled = this.compiled.get(url);
    if (!compiled) {
      // Guards recursion through value sets that include each other.
      this.compiled.set(url, () => 'unknown');
      compiled = this.compileValueSet(url);
      this.compiled.set(url, compiled);
    }
    return compiled;
  }

  private compileValueSet(url: string): Predicate {
    const vs = this.valueSets.get(url);
    if (!vs) return () => 'unknown';
    const compose = vs.compose;
    if (!compose) {
      const contains = new Set((vs.expansion?.contains ?? []).map((c) => `${c.system}|${c.code}`));
      if (!vs.expansion) return () => 'unknown';
      return (system, code) => (contains.has(`${system}|${code}`) ? 'member' : 'not-member');
    }
    const includes = (compose.include ?? []).map((inc) => this.compileInclude(inc));
    const excludes = (compose.exclude ?? []).map((inc) => this.compileInclude(inc));
    return (system, code) => {
      let result: Membership = 'not-member';
      for (const include of includes) {
        result = orMembership(result, include(system, code));
        if (result === 'member') break;
      }
      if (result === 'not-member') return result;
      for (const exclude of excludes) {
        const excluded = exclude(system, code);
        if (excluded === 'member') return 'not-member';
        if (excluded === 'unknown') result = andMembership(result, 'unknown');
      }
      return result;
    };
  }

  private compileInclude(include: ValueSetComposeInclude): Predicate {
    const parts: Predicate[] = [];
    if (include.system) {
      const system = stripVersion(include.system);
      parts.push(this.compileSystemPart(system, include));
    }
    for (const vsUrl of include.valueSet ?? []) {
      const inner = stripVersion(vsUrl);
      parts.push((s, c) => this.predicate(inner)(s, c));
    }
    if (parts.length === 0) return () => 'not-member';
    return (system, code) => parts.reduce<Membership>((acc, part) => andMembership(acc, part(system, code)), 'member');
  }

  private compileSystemPart(system: string, include: ValueSetComposeInclude): Predicate {
    const wrongSystem = (s: string | undefined): boolean => s !== undefined && stripVersion(s) !== system;
    if (include.concept?.length) {
      const cs = this.codeSystems.get(system);
      const fold = (code: string): string => (cs && !cs.caseSensitive ? code.toLowerCase() : code);
      const codes = new Set(include.concept.map((c) => fold(c.code ?? '')));
      return (s, code) => (wrongSystem(s) ? 'not-member' : codes.has(fold(code)) ? 'member' : 'not-member');
    }
    const filters = include.filter ?? [];
    return (s, code) => {
      if (wrongSystem(s)) return 'not-member';
      const status = this.checkCode(system, code);
      if (status === 'unknown-system') return 'unknown';
      if (status === 'unknown-code') return 'not-member';
      if (status === 'incomplete') return 'unknown';
      let result: Membership = 'member';
      for (const filter of filters) result = andMembership(result, this.checkFilter(system, code, filter));
      return result;
    };
  }

  private checkFilter(system: string, code: string, filter: { property?: string; op?: string; value?: string }): Membership {
    const { property, op, value } = filter;
    if (property !== 'concept' || !value) return 'unknown';
    const isDescendant = (from: string, ancestor: string, seen = new Set<string>()): boolean => {
      for (const parent of this.concept(system, from)?.parents ?? []) {
        if (parent === ancestor) return true;
        if (!seen.has(parent)) {
          seen.add(parent);
          if (isDescendant(parent, ancestor, seen)) return true;
        }
      }
      return false;
    };
    switch (op) {
      case 'is-a':
        return code === value || isDescendant(code, value) ? 'member' : 'not-member';
      case 'descendent-of':
        return isDescendant(code, value) ? 'member' : 'not-member';
      case 'is-not-a':
        return code === value || isDescendant(code, value) ? 'not-member' : 'member';
      case '=':
        return code === value ? 'member' : 'not-member';
      case 'in':
        return value.split(',').map((v) => v.trim()).includes(code) ? 'member' : 'not-member';
      default:
        return 'unknown';
    }
  }

  translate(source: string, localCode: string, options: TranslateOptions = {}): Coding {
    const wanted = stripVersion(source);
    for (const map of this.conceptMaps) {
      const mapMatches = [map.url, map.sourceUri, map.sourceCanonical].some((s) => s && stripVersion(s) === wanted);
      for (const group of map.group ?? []) {
        if (!mapMatches && (!group.source || stripVersion(group.source) !== wanted)) continue;
        if (options.target && (!group.target || stripVersion(group.target) !== stripVersion(options.target))) continue;
        const element = group.element?.find((e) => e.code === localCode);
        const target = element?.target?.find((t) => t.code && t.equivalence !== 'unmatched' && t.equivalence !== 'disjoint');
        if (target?.code && group.target) {
          const display = target.display ?? this.lookup(group.target, target.code);
          return { system: group.target, code: target.code, ...(display ? { display } : {}) };
        }
      }
    }
    throw new UnknownCodeError({ ...(options.field ? { field: options.field } : {}), system: source, code: localCode });
  }
}

/** A terminology over the given resources (later ones win on the same url). */
export function createTerminology(resources: Iterable<TerminologyResource>): Terminology {
  return new InMemoryTerminology(resources);
}

/** The CodeSystems, ValueSets and ConceptMaps of a directory (mappings/ by default), in name order. */
export async function readTerminologyDir(dir: string = MAPPINGS_DIR): Promise<TerminologyResource[]> {
  const names = (await readdir(dir)).filter((name) => name.endsWith('.json')).sort();
  const resources = await Promise.all(
    names.map(async (name) => JSON.parse(await readFile(join(dir, name), 'utf8')) as TerminologyResource),
  );
  for (const [i, resource] of resources.entries()) {
    if (!['CodeSystem', 'ValueSet', 'ConceptMap'].includes(resource.resourceType)) {
      throw new Error(`${names[i]}: a ${resource.resourceType} has no place in the terminology directory`);
    }
  }
  return resources;
}

/** Loads mappings/ (or another directory) at start. */
export async function loadTerminology(dir: string = MAPPINGS_DIR): Promise<Terminology> {
  return createTerminology(await readTerminologyDir(dir));
}
