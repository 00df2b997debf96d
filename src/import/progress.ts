// What a person sees while an import runs: on a terminal, one line rewritten in place (count, rate, time
// left when the total is known); elsewhere (a log file, CI), a line every few seconds.
import type { ImportCounts } from './counts.ts';

export interface ProgressOptions {
  /** Lines in the file, when known (a quick count before the import); no time left without it. */
  readonly total?: number;
  readonly tty: boolean;
  readonly write: (text: string) => void;
  /** Seconds between log lines when not on a terminal (default 10). */
  readonly intervalSeconds?: number;
  readonly now?: () => number;
  /** Lines already done before this run (resume): not counted in the rate. */
  readonly startedAt?: number;
}

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

const grouped = (n: number) => n.toLocaleString('fr-FR').replace(/\u202f|\u00a0/g, ' ');

/** The progress line for these counts (pure: tested). */
export function progressLine(counts: ImportCounts, elapsedSeconds: number, doneBefore: number, total: number | undefined, width = 24): string {
  const done = counts.imported + counts.rejected;
  const rate = elapsedSeconds > 0 ? (done - doneBefore) / elapsedSeconds : 0;
  const parts: string[] = [];
  if (total !== undefined && total > 0) {
    const share = Math.min(1, done / total);
    const filled = Math.round(share * width);
    parts.push(`[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(share * 100).toFixed(0).padStart(3)} %`);
    parts.push(`${grouped(done)}/${grouped(total)} lignes`);
  } else parts.push(`${grouped(done)} lignes`);
  parts.push(`${grouped(Math.round(rate))} lignes/s`);
  if (total !== undefined && rate > 0) parts.push(`reste ${duration(Math.max(0, total - done) / rate)}`);
  parts.push(`${grouped(counts.imported)} importées, ${grouped(counts.rejected)} rejetées`);
  return parts.join('  ');
}

export class Progress {
  readonly #options: ProgressOptions;
  readonly #start: number;
  #last = 0;
  #doneBefore = -1;
  #latest: ImportCounts | undefined;

  constructor(options: ProgressOptions) {
    this.#options = options;
    this.#start = this.#now();
  }

  #now(): number {
    return (this.#options.now ?? (() => performance.now()))();
  }

  update(counts: ImportCounts): void {
    if (this.#doneBefore < 0) this.#doneBefore = this.#options.startedAt ?? 0;
    this.#latest = counts;
    const now = this.#now();
    const interval = this.#options.tty ? 200 : (this.#options.intervalSeconds ?? 10) * 1000;
    if (now - this.#last < interval) return;
    this.#last = now;
    this.#print(false);
  }

  /** The last state, on its own line. */
  end(): void {
    if (this.#latest !== undefined) this.#print(true);
  }

  #print(final: boolean): void {
    if (this.#latest === undefined) return;
    const line = progressLine(this.#latest, (this.#now() - this.#start) / 1000, Math.max(0, this.#doneBefore), this.#options.total);
    if (this.#options.tty) this.#options.write(`\r\x1b[K${line}${final ? '\n' : ''}`);
    else this.#options.write(`${new Date().toISOString()} import: ${line}\n`);
  }
}
