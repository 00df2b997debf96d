// The indicators as CSV, one value per row with French column names, so that a spreadsheet can pivot
// them: overall first, then each group; with the previous period beside each value when compared.
import type { IndicatorReport, IndicatorSet } from './report.ts';
import { change } from './comparison.ts';
import type { ComparedReport } from './comparison.ts';

export const CSV_HEADER = ['debut', 'fin_exclue', 'regroupement', 'groupe', 'libelle_groupe', 'indicateur', 'detail', 'valeur'] as const;

/** `[indicator, detail, value]` rows of one set; indicators that are not computable (null) are left out. */
export function rowsOf(set: IndicatorSet): [string, string, number][] {
  const rows: [string, string, number][] = [['actes_realises', '', set.acts]];
  for (const [type, n] of Object.entries(set.actsByType)) rows.push(['actes_realises', type, n]);
  for (const month of set.actsByMonth ?? []) {
    rows.push(['actes_realises', month.month, month.total]);
    for (const [type, n] of Object.entries(month.byType)) rows.push(['actes_realises', `${month.month}/${type}`, n]);
  }
  rows.push(['professionnels_distincts', '', set.professionals]);
  rows.push(['teleconsultations', '', set.teleconsultations]);
  rows.push(['teleconsultations_assistees', '', set.teleconsultationsWithAssistant]);
  const optional: [string, number | null][] = [
    ['refus_consentement', set.consentRefusals],
    ['incidents_techniques', set.incidents],
    ['actes_avec_incident', set.actsWithIncident],
    ['actes_interrompus_ou_convertis', set.actsInterruptedOrConverted],
    ['actes_sans_compte_rendu', set.finishedWithoutReport],
    ['comptes_rendus_sans_auteur', set.reportsWithoutAuthor],
  ];
  for (const [name, n] of optional) if (n !== null) rows.push([name, '', n]);
  for (const [type, n] of Object.entries(set.incidentsByType ?? {})) rows.push(['incidents_techniques', type, n]);
  if (set.offers !== null) {
    rows.push(['offres_actives', '', set.offers.total]);
    rows.push(['offres_modalite_telesante', '', set.offers.withTelehealthReception]);
    if (set.offers.fillRate !== null) rows.push(['taux_remplissage_telesante_ror', '', Math.round(set.offers.fillRate * 10_000) / 10_000]);
    rows.push(['structures_offre_telesante', '', set.offers.structuresWithTelehealthOffer]);
  }
  return rows;
}

/** Rows that are rates (0–1), written as percentages in French. */
const RATES = new Set(['taux_remplissage_telesante_ror']);

export interface CsvOptions {
  /**
   * 'fr': what French Excel opens as columns: `;` separator, decimal comma, rates as "33,33 %", UTF-8
   * with a byte order mark (without it Excel reads the accents as Windows-1252). Otherwise RFC 4180.
   */
  readonly locale?: 'fr' | 'en';
}

function frenchNumber(value: number, rate: boolean): string {
  const n = rate ? Math.round(value * 10_000) / 100 : Math.round(value * 100) / 100;
  return `${String(n).replace('.', ',')}${rate ? ' %' : ''}`;
}

export function toCsv(report: IndicatorReport | ComparedReport, options: CsvOptions = {}): string {
  const french = options.locale === 'fr';
  const separator = french ? ';' : ',';
  const field = (value: string | number): string => {
    const text = String(value);
    return text.includes(separator) || /["\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  const previous = 'previous' in report ? report.previous : undefined;
  const header = previous === undefined ? [...CSV_HEADER] : [...CSV_HEADER, 'valeur_precedente', 'evolution', 'evolution_pct'];
  const lines = [header.join(separator)];
  const number = (value: number, rate: boolean) => (french ? frenchNumber(value, rate) : String(rate ? value : Math.round(value * 10_000) / 10_000));
  const push = (groupBy: string, key: string, label: string, set: IndicatorSet, before: IndicatorSet | undefined) => {
    const earlier = before === undefined ? undefined : new Map(rowsOf(before).map(([indicator, detail, value]) => [`${indicator}|${detail}`, value]));
    for (const [indicator, detail, value] of rowsOf(set)) {
      const rate = RATES.has(indicator);
      const cells: (string | number)[] = [report.from, report.to, groupBy, key, label, indicator, detail, number(value, rate)];
      if (previous !== undefined) {
        // A month of the period has no month "before" in the same row: its comparison is left empty.
        const then = /^\d{4}-\d{2}/.test(detail) ? undefined : (earlier?.get(`${indicator}|${detail}`) ?? (before === undefined ? 0 : undefined));
        const delta = change(value, then);
        cells.push(then === undefined ? '' : number(then, rate), delta === undefined ? '' : number(delta.delta, rate), delta?.percent === undefined ? '' : number(delta.percent, false));
      }
      lines.push(cells.map(field).join(separator));
    }
  };
  push('ensemble', '', 'Ensemble', report.overall, previous?.overall);
  for (const group of report.groups) push(report.groupBy, group.key, group.label, group.indicators, previous === undefined ? undefined : previous.groups[group.key]);
  return `${french ? '\uFEFF' : ''}${lines.join('\r\n')}\r\n`;
}
