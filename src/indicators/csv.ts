// The indicators as CSV (RFC 4180: comma, CRLF, quotes when needed), one value per row with French
// column names, so that a spreadsheet can pivot them: overall first, then each group.
import type { IndicatorReport, IndicatorSet } from './compute.ts';

export const CSV_HEADER = ['debut', 'fin_exclue', 'regroupement', 'groupe', 'libelle_groupe', 'indicateur', 'detail', 'valeur'] as const;

function field(value: string | number): string {
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

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

export function toCsv(report: IndicatorReport): string {
  const lines = [CSV_HEADER.join(',')];
  const push = (groupBy: string, key: string, label: string, set: IndicatorSet) => {
    for (const [indicator, detail, value] of rowsOf(set)) {
      lines.push([report.from, report.to, groupBy, key, label, indicator, detail, value].map(field).join(','));
    }
  };
  push('ensemble', '', 'Ensemble', report.overall);
  for (const group of report.groups) push(report.groupBy, group.key, group.label, group.indicators);
  return `${lines.join('\r\n')}\r\n`;
}
