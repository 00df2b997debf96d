// npm run conformance:load — puts into a HAPI FHIR server everything its validator needs to judge our
// resources as the in-process validator does: FR Core's conformance resources (from the shipped package),
// our terminology (mappings/) and our profiles (profiles/generated/). PUT by id in transactions: running it
// twice changes nothing (HAPI keeps the version of a resource whose content did not change).
// Environment: FHIR_BASE_URL (http://127.0.0.1:8080/fhir).
import type { Bundle, OperationOutcome, Parameters, Resource, StructureDefinition } from '@medplum/fhirtypes';
import { frCoreDependencies, frCoreResources, shippedStructureDefinitions } from '../src/fhir/validation/sources.ts';
import { readTerminologyDir } from '../src/terminology/index.ts';

export type ConformancePart = 'fr-core' | 'terminology' | 'profiles';

export interface LoadOptions {
  readonly include?: readonly ConformancePart[];
  readonly log?: (line: string) => void;
  /** Resources per transaction. */
  readonly batchSize?: number;
}

export interface LoadReport {
  readonly counts: Record<ConformancePart, number>;
  readonly ms: number;
}

const FHIR_JSON = 'application/fhir+json';
const TIMEOUT_MS = 120_000;

/** Just enough HTTP to HAPI for the conformance scripts and tests. */
export class FhirHttp {
  readonly baseUrl: string;

  constructor(baseUrl: string) {
    this.baseUrl = baseUrl.replace(/\/$/, '');
  }

  async request(method: string, path: string, body?: unknown): Promise<{ status: number; body: Resource }> {
    const response = await fetch(`${this.baseUrl}/${path}`, {
      method,
      headers: { accept: FHIR_JSON, ...(body === undefined ? {} : { 'content-type': FHIR_JSON }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : {}) as Resource };
  }

  private async ok(method: string, path: string, body?: unknown): Promise<Resource> {
    const { status, body: answer } = await this.request(method, path, body);
    if (status >= 300) {
      const issues = answer.resourceType === 'OperationOutcome' ? (answer as OperationOutcome).issue : undefined;
      const detail = issues?.map((i) => i.diagnostics ?? i.details?.text).join('; ') ?? JSON.stringify(answer).slice(0, 500);
      throw new Error(`${method} ${path}: HTTP ${status}: ${detail}`);
    }
    return answer;
  }

  async put(resource: Resource): Promise<Resource> {
    return this.ok('PUT', `${resource.resourceType}/${resource.id}`, resource);
  }

  async transaction(resources: readonly Resource[]): Promise<Bundle> {
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: resources.map((resource) => ({
        resource,
        request: { method: 'PUT', url: `${resource.resourceType}/${resource.id}` },
      })),
    };
    return (await this.ok('POST', '', bundle)) as Bundle;
  }

  /** StructureDefinition/$snapshot: the server expands the differential from the parents it holds. */
  async snapshot(definition: StructureDefinition): Promise<StructureDefinition> {
    const parameters: Parameters = { resourceType: 'Parameters', parameter: [{ name: 'definition', resource: definition }] };
    return (await this.ok('POST', 'StructureDefinition/$snapshot', parameters)) as StructureDefinition;
  }

  /**
   * [type]/$validate?profile=…: 200 when valid, 412 when not; the OperationOutcome either way.
   *
   * HAPI rebuilds its validator's context when conformance resources are written (another process
   * loading them, as test files running beside each other do): a $validate that runs meanwhile finds no
   * resource definitions at all and answers "This content cannot be parsed (unknown or unrecognized
   * resource name 'Encounter')" for any resource. That answer judges nothing: asked again, a moment later.
   */
  async validate(resource: Resource, profile?: string): Promise<{ status: number; outcome: OperationOutcome }> {
    const query = profile ? `?profile=${encodeURIComponent(profile)}` : '';
    for (let attempt = 1; ; attempt++) {
      const { status, body } = await this.request('POST', `${resource.resourceType}/$validate${query}`, resource);
      if (body.resourceType !== 'OperationOutcome') throw new Error(`$validate answered HTTP ${status} without an OperationOutcome`);
      const outcome = body as OperationOutcome;
      const contextless = outcome.issue.some((issue) => /unknown or unrecognized resource name/.test(issue.diagnostics ?? ''));
      if (!contextless || attempt >= 10) return { status, outcome };
      await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
    }
  }
}

async function parts(include: readonly ConformancePart[]): Promise<Record<ConformancePart, Resource[]>> {
  return {
    'fr-core': include.includes('fr-core') ? [...frCoreDependencies(), ...frCoreResources()] : [],
    terminology: include.includes('terminology') ? await readTerminologyDir() : [],
    profiles: include.includes('profiles') ? shippedStructureDefinitions() : [],
  };
}

export async function loadConformance(baseUrl: string, options: LoadOptions = {}): Promise<LoadReport> {
  const include = options.include ?? ['fr-core', 'terminology', 'profiles'];
  const log = options.log ?? console.log;
  const batchSize = options.batchSize ?? 25;
  const t0 = performance.now();
  const http = new FhirHttp(baseUrl);
  const resources = await parts(include);
  const counts = { 'fr-core': 0, terminology: 0, profiles: 0 } satisfies Record<ConformancePart, number>;
  for (const part of include) {
    const list = resources[part];
    for (let i = 0; i < list.length; i += batchSize) await http.transaction(list.slice(i, i + batchSize));
    counts[part] = list.length;
    const byType = new Map<string, number>();
    for (const r of list) byType.set(r.resourceType, (byType.get(r.resourceType) ?? 0) + 1);
    log(`  ${part}: ${[...byType].map(([type, n]) => `${n} ${type}`).join(', ') || 'nothing'}`);
  }
  const ms = Math.round(performance.now() - t0);
  log(`conformance loaded into ${http.baseUrl} in ${ms} ms`);
  return { counts, ms };
}

if (import.meta.main) {
  const baseUrl = process.env.FHIR_BASE_URL ?? 'http://127.0.0.1:8080/fhir';
  loadConformance(baseUrl).catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
