// Departments and regions as the agency reads them: INSEE's official geography (code officiel
// géographique), kept as data in departements-regions.csv: 96 metropolitan departments with Corsica's
// 2A/2B, and the five overseas departments (971–974, 976), which are regions of their own.
import { readFileSync } from 'node:fs';

export interface Department {
  readonly code: string;
  readonly name: string;
  readonly region: string;
}

export interface Region {
  readonly code: string;
  readonly name: string;
  readonly departments: readonly string[];
}

function load(): { departments: Map<string, Department>; regions: Map<string, Region> } {
  const text = readFileSync(new URL('./departements-regions.csv', import.meta.url), 'utf8');
  const departments = new Map<string, Department>();
  const regions = new Map<string, { code: string; name: string; departments: string[] }>();
  for (const line of text.split(/\r?\n/).slice(1)) {
    if (line.trim() === '') continue;
    const [code, name, regionCode, regionName] = line.split(',');
    if (code === undefined || name === undefined || regionCode === undefined || regionName === undefined) throw new Error(`departements-regions.csv: bad line "${line}"`);
    departments.set(code, { code, name, region: regionCode });
    const region = regions.get(regionCode) ?? { code: regionCode, name: regionName, departments: [] };
    region.departments.push(code);
    regions.set(regionCode, region);
  }
  return { departments, regions };
}

const GEO = load();

export const DEPARTMENTS: ReadonlyMap<string, Department> = GEO.departments;
export const REGIONS: ReadonlyMap<string, Region> = GEO.regions;

/** The department of a FINESS: 2A/2B for Corsica, 3 digits overseas (97x), else its first two digits. */
export function departmentOfFiness(finess: string): string {
  if (/^97/.test(finess)) return finess.slice(0, 3);
  return finess.slice(0, 2);
}

export function regionOf(department: string): Region | undefined {
  const code = DEPARTMENTS.get(department)?.region;
  return code === undefined ? undefined : REGIONS.get(code);
}

/** "75 Paris"; a code INSEE does not know (a FINESS of a former code) is shown as is. */
export function departmentLabel(code: string): string {
  const department = DEPARTMENTS.get(code);
  return department === undefined ? `Département ${code}` : `${code} ${department.name}`;
}

export function regionLabel(code: string): string {
  return REGIONS.get(code)?.name ?? `Région ${code}`;
}
