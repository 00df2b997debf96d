import type { ElementDefinition, StructureDefinition } from '@medplum/fhirtypes';

/** One element of a snapshot, with its children and, when it is sliced, its slices. */
export interface ElementNode {
  readonly def: ElementDefinition;
  /** Last segment of the path: `status`, `value[x]`. */
  readonly name: string;
  readonly children: ElementNode[];
  readonly slices: ElementNode[];
}

export interface ElementTree {
  readonly sd: StructureDefinition;
  readonly root: ElementNode;
  /** Every node by element id, for contentReference (`#Questionnaire.item`). */
  readonly byId: ReadonlyMap<string, ElementNode>;
}

function lastSegment(path: string): string {
  return path.slice(path.lastIndexOf('.') + 1);
}

/** `A.b:s1.c:s2` → the id of the element a slice belongs to, or of a child's parent. */
function sliceBaseId(id: string, sliceName: string): string | undefined {
  for (const sep of [`:${sliceName}`, `/${sliceName}`]) {
    if (id.endsWith(sep)) return id.slice(0, -sep.length);
  }
  return undefined;
}

function parentId(id: string): string {
  // Slice names do not contain dots in the profiles we load; a dot inside one would mislead this.
  return id.slice(0, id.lastIndexOf('.'));
}

/** The element tree of a StructureDefinition's snapshot. */
export function buildTree(sd: StructureDefinition): ElementTree {
  const elements = sd.snapshot?.element ?? [];
  const first = elements[0];
  if (!first) throw new Error(`StructureDefinition ${sd.url} has no snapshot`);
  const byId = new Map<string, ElementNode>();
  const make = (def: ElementDefinition): ElementNode => ({
    def,
    name: lastSegment(def.path ?? ''),
    children: [],
    slices: [],
  });
  const root = make(first);
  byId.set(first.id ?? first.path ?? '', root);
  for (const def of elements.slice(1)) {
    const id = def.id ?? def.path ?? '';
    const node = make(def);
    byId.set(id, node);
    const base = def.sliceName ? sliceBaseId(id, def.sliceName) : undefined;
    if (base !== undefined) {
      const sliced = byId.get(base);
      if (!sliced) throw new Error(`${sd.url}: slice ${id} comes before the element it slices`);
      sliced.slices.push(node);
      continue;
    }
    const parent = byId.get(parentId(id));
    if (!parent) throw new Error(`${sd.url}: element ${id} has no parent in the snapshot`);
    parent.children.push(node);
  }
  return { sd, root, byId };
}
