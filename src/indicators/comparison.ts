// The figure an analyst reads first beside each indicator: the previous period of the same length, its
// difference (Δ) and the change in percent. Periods of whole months (the default: the last 12 complete
// months) compare with the same number of months before; any other period with the same number of days.
import type { IndicatorReport, IndicatorSet } from './report.ts';

export interface Period {
  readonly from: string;
  readonly to: string;
}

function addMonths(day: string, months: number): string {
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCMonth(date.getUTCMonth() + months);
  return date.toISOString().slice(0, 10);
}

function addDays(day: string, days: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

/** The last `months` complete months before `now` (default period: 12). */
export function lastCompleteMonths(now: Date, months = 12): Period {
  const to = `${now.toISOString().slice(0, 7)}-01`;
  return { from: addMonths(to, -months), to };
}

export function previousPeriod(period: Period): Period {
  if (period.from.endsWith('-01') && period.to.endsWith('-01')) {
    const months = (Number(period.to.slice(0, 4)) - Number(period.from.slice(0, 4))) * 12 + Number(period.to.slice(5, 7)) - Number(period.from.slice(5, 7));
    return { from: addMonths(period.from, -months), to: period.from };
  }
  const days = Math.round((Date.parse(`${period.to}T00:00:00Z`) - Date.parse(`${period.from}T00:00:00Z`)) / 86_400_000);
  return { from: addDays(period.from, -days), to: period.from };
}

/** The report of the period with, for the overall and each group, the same figures of the previous period. */
export interface ComparedReport extends IndicatorReport {
  readonly previous: {
    readonly from: string;
    readonly to: string;
    readonly overall: IndicatorSet;
    /** By group key; a group absent before has no entry (its figures were all zero). */
    readonly groups: Readonly<Record<string, IndicatorSet>>;
  };
}

export function compared(current: IndicatorReport, previous: IndicatorReport): ComparedReport {
  return {
    ...current,
    previous: {
      from: previous.from,
      to: previous.to,
      overall: previous.overall,
      groups: Object.fromEntries(previous.groups.map((g) => [g.key, g.indicators])),
    },
  };
}

/** Δ and % of a figure against the previous one; % is undefined from zero (no base to compare with). */
export function change(value: number | null | undefined, before: number | null | undefined): { delta: number; percent: number | undefined } | undefined {
  if (value === null || value === undefined || before === null || before === undefined) return undefined;
  return { delta: value - before, percent: before === 0 ? undefined : ((value - before) / before) * 100 };
}
