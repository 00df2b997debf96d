// Validates an instance against the snapshot of a profile: what @medplum/core's validator does not check.
// Medplum checks the base FHIR R4 structure (types, base cardinalities, primitive formats, the invariants
// of the base specification). This walker adds, element by element of the snapshot:
//   - cardinalities a profile tightened, fixed and pattern values;
//   - slicing: each value is put in its slice by the discriminators (value/pattern, exists, type: slicing.ts), then
//     checked against the slice's own elements, and every slice's cardinality is counted;
//   - extensions: each one is checked against its definition (value type, its own sub-extensions);
//   - datatype profiles (fr-core-contact-point…) and the elements of datatypes a snapshot does not expand;
//   - terminology: required and extensible bindings, and codes of the code systems we hold;
//   - the invariants profiles add (FR Core's, ours), evaluated with medplum's FHIRPath engine;
//   - the resource type a reference points to.
import { evalFhirPathTyped, toTypedValue } from '@medplum/core';
import type { TypedValue } from '@medplum/core';
import type { ElementDefinition, ElementDefinitionBinding, Resource } from '@medplum/fhirtypes';
import { stripVersion } from '../../terminology/index.ts';
import type { Membership, Terminology } from '../../terminology/index.ts';
import { arrayify, codingsOf, deepEqual, isObject, matchesPattern, prepared, specifiedValue, typeCode } from './element-values.ts';
import type { Json } from './element-values.ts';
import { matchesSlice } from './slicing.ts';
import type { FoundValue } from './slicing.ts';
import type { ElementNode, ElementTree } from './tree.ts';

export type Severity = 'error' | 'warning' | 'information';

export interface ValidationIssue {
  readonly severity: Severity;
  /** OperationOutcome issue type: structure, required, value, code-invalid, invariant, not-supported… */
  readonly code: string;
  /** FHIRPath-like path to the element in the resource: `Encounter.participant[0].type`. */
  readonly expression: string;
  readonly message: string;
}

/** What the walker needs to know of the definitions loaded. */
export interface Definitions {
  /** The tree of a StructureDefinition by canonical url (version ignored). */
  tree(url: string): ElementTree | undefined;
  /** The tree of a base type or resource (`CodeableConcept`, `Encounter`). */
  baseTree(type: string): ElementTree | undefined;
  /** The type a profile constrains (for reference target checks). */
  profileType(url: string): string | undefined;
  readonly terminology: Terminology;
}

const PRIMITIVES = new Set([
  'base64Binary', 'boolean', 'canonical', 'code', 'date', 'dateTime', 'decimal', 'id', 'instant', 'integer',
  'markdown', 'oid', 'positiveInt', 'string', 'time', 'unsignedInt', 'uri', 'url', 'uuid', 'xhtml',
  'http://hl7.org/fhirpath/System.String',
]);
const BASE_SD = 'http://hl7.org/fhir/StructureDefinition/';

const capitalize = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

interface Context {
  readonly resource: Resource;
  readonly bundleTypes: ReadonlyMap<string, string>;
}

export class ProfileWalker {
  private readonly defs: Definitions;
  private issues: ValidationIssue[] = [];

  constructor(defs: Definitions) {
    this.defs = defs;
  }

  /** Profile-level issues of a resource, of the resources it contains and of a bundle's entries. */
  validate(resource: Resource): ValidationIssue[] {
    this.issues = [];
    this.validateResource(resource, resource.resourceType, new Map());
    const seen = new Set<string>();
    return this.issues.filter((i) => {
      const key = `${i.severity}|${i.expression}|${i.message}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  }

  private report(severity: Severity, code: string, expression: string, message: string): void {
    this.issues.push({ severity, code, expression, message });
  }

  private validateResource(resource: Resource, path: string, bundleTypes: ReadonlyMap<string, string>): void {
    const ctx: Context = {
      resource,
      bundleTypes: resource.resourceType === 'Bundle' ? this.bundleIndex(resource) : bundleTypes,
    };
    const declared = resource.meta?.profile ?? [];
    const trees: ElementTree[] = [];
    for (const url of declared) {
      const tree = this.defs.tree(url);
      if (!tree) {
        this.report('warning', 'not-supported', `${path}.meta.profile`, `Profil inconnu, non vérifié / unknown profile, not checked: ${url}`);
      } else if (tree.sd.type !== resource.resourceType) {
        this.report('error', 'structure', `${path}.meta.profile`, `Le profil ${url} s'applique à ${tree.sd.type}, pas à ${resource.resourceType}`);
      } else {
        trees.push(tree);
      }
    }
    if (trees.length === 0) {
      const base = this.defs.baseTree(resource.resourceType);
      if (base) trees.push(base);
    }
    for (const tree of trees) this.validateNode(resource as unknown as Json, tree.root, tree, path, resource.resourceType, ctx);
  }

  private bundleIndex(bundle: Resource): Map<string, string> {
    const index = new Map<string, string>();
    for (const entry of arrayify((bundle as unknown as Json).entry)) {
      if (!isObject(entry) || !isObject(entry.resource)) continue;
      const type = entry.resource.resourceType;
      if (typeof type !== 'string') continue;
      if (typeof entry.fullUrl === 'string') index.set(entry.fullUrl, type);
      if (typeof entry.resource.id === 'string') index.set(`${type}/${entry.resource.id}`, type);
    }
    return index;
  }

  /** Checks one value against one element definition (and, through it, its children). */
  private validateNode(value: unknown, node: ElementNode, tree: ElementTree, path: string, type: string, ctx: Context): void {
    const def = node.def;
    const fixed = specifiedValue(def, 'fixed');
    if (fixed !== undefined && !deepEqual(value, fixed)) {
      this.report('error', 'value', path, `La valeur doit être exactement ${JSON.stringify(fixed)} / value must be ${JSON.stringify(fixed)}`);
    }
    const pattern = specifiedValue(def, 'pattern');
    if (pattern !== undefined && !matchesPattern(value, pattern)) {
      this.report('error', 'value', path, `La valeur doit correspondre à ${JSON.stringify(pattern)} / value must match the pattern ${JSON.stringify(pattern)}`);
    }
    if (def.binding) this.checkBinding(value, type, def.binding, path);
    if (type === 'Coding') this.checkCoding(value, path);
    if (type === 'Reference') this.checkReference(value, def, path, ctx);
    this.checkConstraints(value, def, path, type, ctx);

    if (PRIMITIVES.has(type)) return;
    if (!isObject(value)) return;

    if (typeof value.resourceType === 'string' && node !== tree.root) {
      // A resource inside a resource (Bundle.entry.resource, contained): validated with its own profiles.
      this.validateResource(value as unknown as Resource, path, ctx.bundleTypes);
      return;
    }

    // Datatype profiles (an extension's definition, fr-core-contact-point…): the value must meet them too.
    const profiles = def.type?.find((t) => typeCode(t) === type)?.profile ?? [];
    for (const url of profiles) {
      const profileTree = this.defs.tree(url);
      if (profileTree) {
        if (profileTree !== tree || node !== tree.root) this.validateNode(value, profileTree.root, profileTree, path, type, ctx);
      } else if (type === 'Extension') {
        this.report('warning', 'not-supported', path, `Définition d'extension inconnue / unknown extension definition: ${url}`);
      }
    }

    let children = node.children;
    let childTree = tree;
    if (def.contentReference) {
      const target = tree.byId.get(def.contentReference.slice(def.contentReference.indexOf('#') + 1));
      if (target) children = target.children;
    }
    if (children.length === 0 && node !== tree.root) {
      // The snapshot does not expand this datatype: walk its base definition for bindings and codes.
      const base = this.defs.baseTree(type);
      if (base) {
        children = base.root.children;
        childTree = base;
      }
    }
    this.validateChildren(value, children, childTree, path, ctx);
  }

  private validateChildren(obj: Json, children: readonly ElementNode[], tree: ElementTree, path: string, ctx: Context): void {
    for (const child of children) {
      const found = this.valuesOf(obj, child, path);
      this.checkCardinality(child, found.length, `${path}.${child.name.replace('[x]', '')}`);
      if (child.def.max === '0') continue;
      if (child.slices.length > 0 && child.def.slicing) {
        this.validateSlices(found, child, tree, path, ctx);
      } else {
        for (const item of found) this.validateItem(item, child, tree, ctx);
      }
    }
  }

  private validateItem(item: FoundValue, node: ElementNode, tree: ElementTree, ctx: Context): void {
    if (node.name === 'extension' || node.name === 'modifierExtension') {
      this.validateLooseExtension(item, node, tree, ctx);
      return;
    }
    this.validateNode(item.value, node, tree, item.path, item.type, ctx);
  }

  /** An extension no slice claims: checked against its own definition when we hold it. */
  private validateLooseExtension(item: FoundValue, node: ElementNode, tree: ElementTree, ctx: Context): void {
    this.validateNode(item.value, node, tree, item.path, 'Extension', ctx);
    const url = isObject(item.value) && typeof item.value.url === 'string' ? item.value.url : undefined;
    if (!url) return;
    const definition = this.defs.tree(url);
    if (definition) {
      this.validateNode(item.value, definition.root, definition, item.path, 'Extension', ctx);
    } else if (/^https?:\/\//.test(url)) {
      this.report('information', 'not-supported', item.path, `Extension inconnue, non vérifiée / unknown extension, not checked: ${url}`);
    }
  }

  private validateSlices(found: FoundValue[], node: ElementNode, tree: ElementTree, path: string, ctx: Context): void {
    const slicing = node.def.slicing;
    const counts = new Map<ElementNode, number>(node.slices.map((s) => [s, 0]));
    for (const item of found) {
      const slice = node.slices.find((s) => matchesSlice(item, s, slicing?.discriminator ?? [], this.defs.terminology));
      if (slice) {
        counts.set(slice, (counts.get(slice) ?? 0) + 1);
        // An extension slice's type profile is the extension's definition: validateNode walks it too.
        this.validateNode(item.value, slice, tree, item.path, item.type, ctx);
      } else {
        if (slicing?.rules === 'closed') {
          this.report('error', 'structure', item.path, `Cette valeur n'appartient à aucune tranche (slicing fermé) / value matches no slice of a closed slicing`);
        }
        this.validateItem(item, node, tree, ctx);
      }
    }
    const elementPath = `${path}.${node.name.replace('[x]', '')}`;
    for (const slice of node.slices) {
      const count = counts.get(slice) ?? 0;
      const min = slice.def.min ?? 0;
      const max = slice.def.max === '*' || slice.def.max === undefined ? Infinity : Number(slice.def.max);
      if (count < min || count > max) {
        this.report(
          'error',
          count < min ? 'required' : 'structure',
          elementPath,
          `Tranche '${slice.def.sliceName}' : ${count} valeur(s), attendu ${min}..${slice.def.max ?? '*'} / ` +
            `slice '${slice.def.sliceName}': found ${count}, expected ${min}..${slice.def.max ?? '*'}`,
        );
      }
    }
  }

  private checkCardinality(node: ElementNode, count: number, expression: string): void {
    const def = node.def;
    const min = def.min ?? 0;
    const max = def.max === '*' || def.max === undefined ? Infinity : Number(def.max);
    // Base cardinalities are medplum's to report; only what a profile tightened is ours.
    const sameAsBase = def.base && def.base.min === def.min && def.base.max === def.max;
    if (sameAsBase) return;
    if (count < min) {
      this.report('error', 'required', expression, `${expression} : minimum ${min}, trouvé ${count} / minimum required = ${min}, but only found ${count}`);
    } else if (count > max) {
      this.report('error', 'structure', expression, `${expression} : maximum ${def.max}, trouvé ${count} / maximum allowed = ${def.max}, but found ${count}`);
    }
  }

  private valuesOf(obj: Json, node: ElementNode, path: string): FoundValue[] {
    const name = node.name;
    const out: FoundValue[] = [];
    const push = (key: string, type: string): void => {
      const raw = obj[key];
      if (raw === undefined || raw === null) return;
      if (Array.isArray(raw)) raw.forEach((v, i) => out.push({ value: v, path: `${path}.${key}[${i}]`, type }));
      else out.push({ value: raw, path: `${path}.${key}`, type });
    };
    const types = prepared(node.def).types;
    if (name.endsWith('[x]')) {
      const prefix = name.slice(0, -3);
      for (const type of types) if (obj[prefix + capitalize(type)] !== undefined) push(prefix + capitalize(type), type);
    } else {
      push(name, types[0] ?? (node.def.contentReference ? 'BackboneElement' : 'Element'));
    }
    return out;
  }

  private checkBinding(value: unknown, type: string, binding: ElementDefinitionBinding, path: string): void {
    const strength = binding.strength;
    if ((strength !== 'required' && strength !== 'extensible') || !binding.valueSet) return;
    const codings = codingsOf(value, type);
    if (codings === undefined) return;
    const vs = stripVersion(binding.valueSet);
    if (codings.length === 0) {
      if (strength === 'required' && type === 'CodeableConcept') {
        this.report('error', 'code-invalid', path, `Aucun code fourni, un code de ${vs} est requis / no code provided, and a code is required from ${vs}`);
      }
      return;
    }
    if (!this.defs.terminology.hasValueSet(vs)) {
      this.report('warning', 'not-supported', path, `Jeu de valeurs non disponible, code non vérifié / value set not available, code not checked: ${vs}`);
      return;
    }
    let result: Membership = 'not-member';
    for (const c of codings) {
      const m = this.defs.terminology.checkValueSet(vs, c.system, c.code);
      if (m === 'member') return;
      if (m === 'unknown') result = 'unknown';
    }
    const shown = codings.map((c) => (c.system ? `${c.system}|${c.code}` : c.code)).join(', ');
    if (result === 'unknown') {
      this.report('information', 'not-supported', path, `Appartenance de ${shown} à ${vs} non vérifiable ici / membership of ${shown} in ${vs} cannot be checked here`);
    } else if (strength === 'required') {
      this.report('error', 'code-invalid', path, `Le code ${shown} n'est pas dans le jeu de valeurs ${vs} / code ${shown} is not in the required value set ${vs}`);
    } else {
      this.report('warning', 'code-invalid', path, `Le code ${shown} n'est pas dans le jeu de valeurs ${vs} (extensible) / code ${shown} is not in the extensible value set ${vs}`);
    }
  }

  private checkCoding(value: unknown, path: string): void {
    if (!isObject(value) || typeof value.system !== 'string' || typeof value.code !== 'string') return;
    if (this.defs.terminology.checkCode(value.system, value.code) === 'unknown-code') {
      this.report('error', 'code-invalid', `${path}.code`, `Code inconnu « ${value.code} » dans ${value.system} / unknown code '${value.code}' in the code system ${value.system}`);
    }
  }

  private checkReference(value: unknown, def: ElementDefinition, path: string, ctx: Context): void {
    if (!isObject(value) || typeof value.reference !== 'string') return;
    const ref = value.reference;
    const targets = (def.type ?? []).flatMap((t) => (t.code === 'Reference' ? (t.targetProfile ?? []) : []));
    if (targets.length === 0) return;
    const allowed = new Set(targets.map((t) => this.defs.profileType(t)).filter((t): t is string => t !== undefined));
    if (allowed.size < targets.length || allowed.has('Resource')) return;
    const type = ctx.bundleTypes.get(ref) ?? /^(?:.*\/)?([A-Z][A-Za-z]+)\/[A-Za-z0-9\-.]{1,64}(?:\/_history\/.*)?$/.exec(ref)?.[1];
    if (type && !allowed.has(type)) {
      this.report('error', 'structure', `${path}.reference`, `Une référence vers ${type} n'est pas admise ici (attendu : ${[...allowed].join(', ')}) / a reference to ${type} is not allowed here (must be one of ${[...allowed].join(', ')})`);
    }
  }

  private checkConstraints(value: unknown, def: ElementDefinition, path: string, type: string, ctx: Context): void {
    for (const constraint of def.constraint ?? []) {
      // The base specification's invariants are medplum's; the ones profiles add are ours.
      if (constraint.severity !== 'error' || !constraint.expression) continue;
      if (!constraint.source || constraint.source.startsWith(BASE_SD)) continue;
      let ok: boolean;
      try {
        const typed: TypedValue = { type, value };
        const result = evalFhirPathTyped(constraint.expression, [typed], {
          '%resource': toTypedValue(ctx.resource),
          '%rootResource': toTypedValue(ctx.resource),
        });
        ok = result.length === 1 && result[0]?.value === true;
      } catch (error) {
        this.report('warning', 'processing', path, `Invariant ${constraint.key} non évalué / not evaluated: ${error instanceof Error ? error.message : String(error)}`);
        continue;
      }
      if (!ok) {
        this.report('error', 'invariant', path, `${constraint.key}: ${constraint.human ?? constraint.expression}`);
      }
    }
  }
}
