// Slicing: which slice of a sliced element a value belongs to, by the slicing's discriminators (value,
// pattern, exists, type), reading the instance along each discriminator's path and the slice's elements
// at that path (nested slices included).
import type { Terminology } from '../../terminology/index.ts';
import { stripVersion } from '../../terminology/index.ts';
import { arrayify, codingsOf, deepEqual, isObject, matchesPattern, specifiedValue, typeCode } from './element-values.ts';
import type { ElementNode } from './tree.ts';

/** Whether a value belongs to a slice, by every discriminator of the slicing (none: no value does). */
export function matchesSlice(item: FoundValue, slice: ElementNode, discriminators: readonly { type?: string; path?: string }[], terminology: Terminology): boolean {
  if (discriminators.length === 0) return false;
  return discriminators.every((d) => matchesDiscriminator(item, slice, d.type ?? 'value', d.path ?? '$this', terminology));
}

function matchesDiscriminator(item: FoundValue, slice: ElementNode, kind: string, path: string, terminology: Terminology): boolean {
  const segments = path === '$this' ? [] : path.split('.');
  const values = navigate([item.value], segments);
  const target = descend(slice, segments);
  switch (kind) {
    case 'value':
    case 'pattern': {
      // An extension slice whose url element is not expanded: the url is the extension's definition.
      if (path === 'url' && target === undefined) {
        const url = slice.def.type?.[0]?.profile?.[0];
        return url !== undefined && values.some((v) => v === stripVersion(url));
      }
      // The value may be fixed below a nested slicing (FR Core's BP: `code.coding.code` is fixed on
      // the slice coding:SBPCode, not on code.coding): every slice of a nested element is a candidate.
      const candidates = descendIntoSlices(slice, segments).filter((c) => specifies(c.node));
      if (candidates.length === 0) return false;
      const matched = candidates.filter((c) => matchesSpecified(c.node, values, terminology));
      // What a slice must hold (min ≥ 1 all along its path) must be there; else any candidate will do.
      const required = candidates.filter((c) => c.required);
      return required.length > 0 ? required.every((c) => matched.includes(c)) : matched.length > 0;
    }
    case 'exists': {
      const node = target ?? slice;
      const mustExist = (node.def.min ?? 0) > 0;
      const mustNot = node.def.max === '0';
      return mustExist ? values.length > 0 : mustNot ? values.length === 0 : true;
    }
    case 'type': {
      const types = (target ?? slice).def.type?.map(typeCode) ?? [];
      return values.some((v) => (isObject(v) && typeof v.resourceType === 'string' ? types.includes(v.resourceType) : false)) ||
        (segments.length === 0 && types.includes(item.type));
    }
    default:
      // `profile` discriminators would need a full validation per candidate: not used by our profiles.
      return false;
  }
}

/** Whether an element fixes the values a `value`/`pattern` discriminator reads: fixed, pattern or a required binding. */
function specifies(node: ElementNode): boolean {
  const binding = node.def.binding;
  return specifiedValue(node.def, 'fixed') !== undefined || specifiedValue(node.def, 'pattern') !== undefined ||
    (binding?.strength === 'required' && binding.valueSet !== undefined);
}

function matchesSpecified(node: ElementNode, values: readonly unknown[], terminology: Terminology): boolean {
  const fixed = specifiedValue(node.def, 'fixed');
  if (fixed !== undefined) return values.some((v) => deepEqual(v, fixed));
  const pattern = specifiedValue(node.def, 'pattern');
  if (pattern !== undefined) return values.some((v) => matchesPattern(v, pattern));
  const valueSet = node.def.binding?.valueSet ?? '';
  const type = node.def.type?.[0] ? typeCode(node.def.type[0]) : 'CodeableConcept';
  return values.some((v) => (codingsOf(v, type) ?? []).some((c) => terminology.checkValueSet(valueSet, c.system, c.code) === 'member'));
}

/** A value of an instance, where it is and the type it has there. */
export interface FoundValue {
  readonly value: unknown;
  readonly path: string;
  readonly type: string;
}

/** Values of an instance along a discriminator path: `coding.system`, `url`, `extension('u').value`. */
function navigate(values: unknown[], segments: readonly string[]): unknown[] {
  let current = values;
  for (const segment of segments) {
    const next: unknown[] = [];
    const ext = /^extension\('([^']+)'\)$/.exec(segment);
    for (const v of current) {
      if (!isObject(v)) continue;
      if (ext) {
        for (const e of arrayify(v.extension)) if (isObject(e) && e.url === ext[1]) next.push(e);
      } else if (segment === 'value' || segment.endsWith('[x]')) {
        const prefix = segment.replace('[x]', '');
        for (const [k, x] of Object.entries(v)) if (k.startsWith(prefix) && k.length > prefix.length) next.push(...arrayify(x));
      } else {
        next.push(...arrayify(v[segment]));
      }
    }
    current = next;
  }
  return current;
}

/** The element of a slice at a discriminator path, following the slice's own children. */
function descend(node: ElementNode, segments: readonly string[]): ElementNode | undefined {
  let current: ElementNode | undefined = node;
  for (const segment of segments) {
    if (!current) return undefined;
    const ext = /^extension\('([^']+)'\)$/.exec(segment);
    if (ext) {
      const extension: ElementNode | undefined = current.children.find((c) => c.name === 'extension');
      current = extension?.slices.find((s) => s.def.type?.[0]?.profile?.some((p) => stripVersion(p) === ext[1]));
      continue;
    }
    const name = segment === 'value' ? 'value[x]' : segment;
    current = current.children.find((c) => c.name === name || c.name === `${name}[x]`);
  }
  return current;
}

interface Candidate {
  readonly node: ElementNode;
  /** Every slice on the way has min ≥ 1: an instance of the outer slice must hold this element. */
  readonly required: boolean;
}

/** Like descend, but at each element that is sliced, its slices are candidates beside the element itself. */
function descendIntoSlices(node: ElementNode, segments: readonly string[]): Candidate[] {
  let current: Candidate[] = [{ node, required: true }];
  for (const segment of segments) {
    const next: Candidate[] = [];
    for (const candidate of current) {
      const child = descend(candidate.node, [segment]);
      if (!child) continue;
      next.push({ node: child, required: candidate.required });
      for (const slice of child.slices) next.push({ node: slice, required: candidate.required && (slice.def.min ?? 0) > 0 });
    }
    current = next;
  }
  return current;
}
