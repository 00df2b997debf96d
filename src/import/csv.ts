// The CSV layout of a bulk import (examples/offers-import.md): one row per offer, a header naming the
// columns, RFC 4180 quoting, lists inside a cell separated by `;`. The nested parts of an offer are
// numbered groups of columns (site1_…, pro1_…, hours1_…, contact1_…), as many groups as the header has.
// A row becomes the same JSON body as POST /v1/offers; validateOffer then judges it, so that a CSV line
// and a JSON line are held to exactly the same rules. Codes are national codes only (local codes: NDJSON).
import type { Offer } from '../model/offer.ts';

/** One cell of a CSV line: how it is read into the offer. */
type Kind = 'text' | 'boolean' | 'integer' | 'number' | 'list' | 'code' | 'codes' | 'lines';

interface Column {
  readonly path: readonly string[];
  readonly kind: Kind;
  readonly meaning: string;
}

/** Columns of the offer itself, in the order of the example file. */
export const OFFER_COLUMNS: Readonly<Record<string, Column>> = {
  identifiant_offre: { path: ['identifiantOffre'], kind: 'text', meaning: "identifiant stable de l'offre (obligatoire)" },
  name: { path: ['name'], kind: 'text', meaning: "nom de l'offre (obligatoire)" },
  description: { path: ['description'], kind: 'text', meaning: 'description' },
  active: { path: ['active'], kind: 'boolean', meaning: 'true (défaut) ou false (offre retirée)' },
  sensitive_unit: { path: ['sensitiveUnit'], kind: 'boolean', meaning: 'unité sensible ROR : true ou false (obligatoire)' },
  structure_finess: { path: ['structure', 'finess'], kind: 'text', meaning: 'FINESS de la structure (obligatoire)' },
  structure_finess_type: { path: ['structure', 'finessType'], kind: 'text', meaning: 'EG (défaut) ou EJ' },
  structure_name: { path: ['structure', 'name'], kind: 'text', meaning: 'raison sociale (obligatoire)' },
  structure_siret: { path: ['structure', 'siret'], kind: 'text', meaning: 'SIRET' },
  activity_field: { path: ['activityField'], kind: 'code', meaning: 'code TRE_R227 ChampActivite (obligatoire)' },
  operational_activity: { path: ['operationalActivity'], kind: 'code', meaning: 'code TRE_R211 ActiviteOperationnelle (obligatoire)' },
  care_mode: { path: ['careMode'], kind: 'code', meaning: 'code TRE_R213 ModePriseEnCharge (obligatoire)' },
  modalities: { path: ['modalities'], kind: 'list', meaning: 'teleconsultation;teleexpertise;telesoin;telesurveillance;teleassistance;regulation' },
  teleexpertise_delay: { path: ['teleexpertiseDelay'], kind: 'text', meaning: 'lt24h, lt7d ou gt7d (avec teleexpertise)' },
  reception_modalities: { path: ['receptionModalities'], kind: 'codes', meaning: 'codes TRE_R338 séparés par ;' },
  specific_acts: { path: ['specificActs'], kind: 'codes', meaning: 'codes TRE_R210 séparés par ;' },
  min_age: { path: ['patientType', 'minAge'], kind: 'integer', meaning: 'âge minimal en années (avec max_age)' },
  max_age: { path: ['patientType', 'maxAge'], kind: 'integer', meaning: 'âge maximal en années (avec min_age)' },
  publics: { path: ['patientType', 'publics'], kind: 'codes', meaning: 'codes TRE_R239 séparés par ; (avec min_age et max_age)' },
};

/** Columns of each numbered group: `site2_city` is `city` of the second site. */
export const GROUP_COLUMNS: Readonly<Record<string, { readonly array: string; readonly columns: Readonly<Record<string, Column>> }>> = {
  site: {
    array: 'sites',
    columns: {
      name: { path: ['name'], kind: 'text', meaning: 'nom du lieu' },
      finess: { path: ['finess'], kind: 'text', meaning: 'FINESS géographique du lieu' },
      address: { path: ['address', 'lines'], kind: 'lines', meaning: "lignes d'adresse séparées par ;" },
      postal_code: { path: ['address', 'postalCode'], kind: 'text', meaning: 'code postal' },
      city: { path: ['address', 'city'], kind: 'text', meaning: 'commune' },
      insee_code: { path: ['address', 'inseeCode'], kind: 'text', meaning: 'code INSEE (COG) de la commune' },
      latitude: { path: ['coordinates', 'latitude'], kind: 'number', meaning: 'latitude (avec longitude)' },
      longitude: { path: ['coordinates', 'longitude'], kind: 'number', meaning: 'longitude (avec latitude)' },
    },
  },
  pro: {
    array: 'professionals',
    columns: {
      rpps: { path: ['rpps'], kind: 'text', meaning: 'numéro RPPS' },
      family_name: { path: ['familyName'], kind: 'text', meaning: 'nom' },
      given_name: { path: ['givenName'], kind: 'text', meaning: 'prénom' },
      profession: { path: ['profession'], kind: 'code', meaning: 'code TRE_G15 ProfessionSante' },
    },
  },
  hours: {
    array: 'openingHours',
    columns: {
      days: { path: ['days'], kind: 'list', meaning: 'jours séparés par ; (mon;tue;…)' },
      opens: { path: ['opens'], kind: 'text', meaning: 'ouverture HH:MM' },
      closes: { path: ['closes'], kind: 'text', meaning: 'fermeture HH:MM' },
      type: { path: ['hoursType'], kind: 'code', meaning: 'code TRE_R252 TypeHoraire' },
    },
  },
  contact: {
    array: 'contacts',
    columns: {
      channel: { path: ['channel'], kind: 'text', meaning: 'landline, mobile, fax, email, mssante ou web' },
      value: { path: ['value'], kind: 'text', meaning: 'numéro, adresse ou URL' },
      confidentiality: { path: ['confidentiality'], kind: 'text', meaning: 'public (défaut), professionals ou regulation' },
      usage: { path: ['usage'], kind: 'text', meaning: 'à quoi sert ce contact' },
    },
  },
};

const GROUP_COLUMN = /^(site|pro|hours|contact)([1-9][0-9]?)_([a-z_]+)$/;

interface ResolvedColumn {
  readonly name: string;
  readonly column: Column;
  /** For a group column: its array and the 0-based position in it. */
  readonly group?: { readonly array: string; readonly index: number };
}

/** The columns of a header, or the names it holds that are no column of the layout. */
export function resolveHeader(names: readonly string[]): { ok: true; columns: readonly ResolvedColumn[] } | { ok: false; unknown: string[]; duplicates: string[] } {
  const unknown: string[] = [];
  const seen = new Set<string>();
  const duplicates: string[] = [];
  const columns: ResolvedColumn[] = [];
  for (const raw of names) {
    const name = raw.trim();
    if (seen.has(name)) duplicates.push(name);
    seen.add(name);
    const own = Object.hasOwn(OFFER_COLUMNS, name) ? OFFER_COLUMNS[name] : undefined;
    if (own !== undefined) {
      columns.push({ name, column: own });
      continue;
    }
    const match = GROUP_COLUMN.exec(name);
    const group = match ? GROUP_COLUMNS[match[1] ?? ''] : undefined;
    const column = match && group && Object.hasOwn(group.columns, match[3] ?? '') ? group.columns[match[3] ?? ''] : undefined;
    if (match === null || group === undefined || column === undefined) {
      unknown.push(name);
      continue;
    }
    columns.push({ name, column, group: { array: group.array, index: Number(match[2]) - 1 } });
  }
  return unknown.length > 0 || duplicates.length > 0 ? { ok: false, unknown, duplicates } : { ok: true, columns };
}

/** `offer.sites[0].address.postalCode` → `site1_postal_code`, to point at the cell of a CSV line. */
export function columnOfField(field: string): string | undefined {
  for (const [name, column] of Object.entries(OFFER_COLUMNS)) {
    if (column.path.join('.') === field || field.startsWith(`${column.path.join('.')}[`) || field.startsWith(`${column.path.join('.')}.`)) return name;
  }
  const match = /^(\w+)\[(\d+)\]\.?(.*)$/.exec(field);
  if (match === null) return undefined;
  const [, array, index, rest = ''] = match;
  for (const [prefix, group] of Object.entries(GROUP_COLUMNS)) {
    if (group.array !== array) continue;
    for (const [name, column] of Object.entries(group.columns)) {
      const path = column.path.join('.');
      if (rest === path || rest.startsWith(`${path}.`) || rest.startsWith(`${path}[`)) return `${prefix}${Number(index) + 1}_${name}`;
    }
    return `${prefix}${Number(index) + 1}_…`;
  }
  return undefined;
}

function listOf(cell: string): string[] {
  return cell
    .split(';')
    .map((part) => part.trim())
    .filter((part) => part !== '');
}

// Values that do not read as their kind are kept as text: validateOffer then names the field and says
// what it expects, instead of the CSV reader guessing.
function valueOf(cell: string, kind: Kind): unknown {
  switch (kind) {
    case 'text':
      return cell;
    case 'boolean':
      return cell === 'true' ? true : cell === 'false' ? false : cell;
    case 'integer':
      return /^-?\d+$/.test(cell) ? Number(cell) : cell;
    case 'number':
      // A French spreadsheet writes 48,3904 (quoted in the file, the cell holding the separator).
      return /^-?\d+(?:[.,]\d+)?$/.test(cell) ? Number(cell.replace(',', '.')) : cell;
    case 'list':
    case 'lines':
      return listOf(cell);
    case 'code':
      return { code: cell };
    case 'codes':
      return listOf(cell).map((code) => ({ code }));
  }
}

function put(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (typeof next === 'object' && next !== null) node = next as Record<string, unknown>;
    else {
      const created: Record<string, unknown> = {};
      node[key] = created;
      node = created;
    }
  }
  const last = path[path.length - 1];
  if (last !== undefined) node[last] = value;
}

/**
 * One CSV row as an offer body. An empty cell is an absent field; a group whose cells are all empty is
 * no element; the groups are packed in number order (site1, site3 → sites[0], sites[1]).
 */
export function offerOfRow(columns: readonly ResolvedColumn[], cells: readonly string[]): Partial<Offer> & Record<string, unknown> {
  const offer: Record<string, unknown> = {};
  const groups = new Map<string, Map<number, Record<string, unknown>>>();
  columns.forEach((resolved, position) => {
    const cell = (cells[position] ?? '').trim();
    if (cell === '') return;
    const value = valueOf(cell, resolved.column.kind);
    if (resolved.group === undefined) {
      put(offer, resolved.column.path, value);
      return;
    }
    const byIndex = groups.get(resolved.group.array) ?? new Map<number, Record<string, unknown>>();
    groups.set(resolved.group.array, byIndex);
    const element = byIndex.get(resolved.group.index) ?? {};
    byIndex.set(resolved.group.index, element);
    put(element, resolved.column.path, value);
  });
  for (const [array, byIndex] of groups) {
    offer[array] = [...byIndex.entries()].sort(([a], [b]) => a - b).map(([, element]) => element);
  }
  return offer as Partial<Offer> & Record<string, unknown>;
}

/** The separators a spreadsheet writes: `,` (RFC 4180), `;` (French Excel: the comma is the decimal mark), tab. */
export const SEPARATORS = [',', ';', '\t'] as const;
export type Separator = (typeof SEPARATORS)[number];

/**
 * The separator of a file, found from its header: the one that occurs most often outside quotes (no
 * column name holds any of them). A header of one column has none: `,`.
 */
export function separatorOf(header: string): Separator {
  const counts = new Map<string, number>();
  let quoted = false;
  for (const c of header) {
    if (c === '"') quoted = !quoted;
    else if (!quoted && (SEPARATORS as readonly string[]).includes(c)) counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  let best: Separator = ',';
  for (const separator of SEPARATORS) if ((counts.get(separator) ?? 0) > (counts.get(best) ?? 0)) best = separator;
  return best;
}

/**
 * Cells of one CSV record (RFC 4180: the separator separates, `"` quotes, `""` is a quote inside
 * quotes), or undefined when the text ends inside quotes: the record goes on on the next line.
 */
export function cellsOf(text: string, separator: Separator = ','): string[] | undefined {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          cell += '"';
          i += 2;
          continue;
        }
        quoted = false;
      } else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === separator) {
      cells.push(cell);
      cell = '';
    } else cell += c;
    i += 1;
  }
  if (quoted) return undefined;
  cells.push(cell);
  return cells;
}

/** The header as cells of the layout, or an error message naming what is wrong with it. */
export function headerOf(
  text: string,
): { ok: true; columns: readonly ResolvedColumn[]; separator: Separator } | { ok: false; code: string; message: string } {
  const line = text.replace(/^\uFEFF/, '');
  const separator = separatorOf(line);
  const cells = cellsOf(line, separator);
  if (cells === undefined) return { ok: false, code: 'csv-header-quote', message: "l'en-tête CSV a un guillemet non refermé" };
  const resolved = resolveHeader(cells);
  if (!resolved.ok) {
    const parts = [];
    if (resolved.unknown.length > 0) parts.push(`colonne(s) inconnue(s) : ${resolved.unknown.join(', ')}`);
    if (resolved.duplicates.length > 0) parts.push(`colonne(s) en double : ${resolved.duplicates.join(', ')}`);
    return { ok: false, code: 'csv-header-columns', message: `${parts.join(' ; ')} (voir examples/offers-import.md)` };
  }
  return { ...resolved, separator };
}

export type { ResolvedColumn };

/** The header of a CSV file with these many groups of each kind (sites, professionals, hours, contacts). */
export function csvHeader(groups: { site: number; pro: number; hours: number; contact: number }): string[] {
  const names = Object.keys(OFFER_COLUMNS);
  for (const prefix of ['site', 'pro', 'hours', 'contact'] as const) {
    const group = GROUP_COLUMNS[prefix];
    if (group === undefined) continue;
    for (let n = 1; n <= groups[prefix]; n++) for (const column of Object.keys(group.columns)) names.push(`${prefix}${n}_${column}`);
  }
  return names;
}

function at(value: unknown, path: readonly string[]): unknown {
  let node = value;
  for (const key of path) node = typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[key] : undefined;
  return node;
}

function cellOf(value: unknown, kind: Kind): string {
  if (value === undefined || value === null) return '';
  switch (kind) {
    case 'code':
      return String((value as { code?: unknown }).code ?? '');
    case 'codes':
      return (value as { code?: unknown }[]).map((c) => String(c.code ?? '')).join(';');
    case 'list':
    case 'lines':
      return (value as unknown[]).map(String).join(';');
    default:
      return String(value);
  }
}

/** A cell quoted when it must be (RFC 4180). */
export function quoteCell(cell: string): string {
  return /[",\r\n]|^\s|\s$/.test(cell) ? `"${cell.replace(/"/g, '""')}"` : cell;
}

/**
 * An offer as a CSV row under this header (the inverse of offerOfRow for national codes). Throws when the
 * offer has more sites, professionals, hours or contacts than the header has groups for, or local codes.
 */
export function rowOfOffer(offer: Offer, header: readonly string[]): string {
  const resolved = resolveHeader(header);
  if (!resolved.ok) throw new RangeError(`not a CSV header of the layout: ${resolved.unknown.join(', ')}`);
  const cells = resolved.columns.map((r) => {
    if (r.group === undefined) return cellOf(at(offer, r.column.path), r.column.kind);
    const list = (offer as unknown as Record<string, unknown>)[r.group.array];
    const element = Array.isArray(list) ? (list[r.group.index] as unknown) : undefined;
    return cellOf(at(element, r.column.path), r.column.kind);
  });
  for (const [prefix, group] of Object.entries(GROUP_COLUMNS)) {
    const list = (offer as unknown as Record<string, unknown>)[group.array];
    const room = resolved.columns.filter((r) => r.group?.array === group.array && r.name.endsWith(`_${Object.keys(group.columns)[0]}`)).length;
    if (Array.isArray(list) && list.length > room) throw new RangeError(`${offer.identifiantOffre}: ${list.length} ${group.array} for ${room} ${prefix} group(s) of columns`);
  }
  return cells.map(quoteCell).join(',');
}
