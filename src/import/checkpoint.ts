// Where an import can resume. Batches finish out of order (K of them in flight), so the checkpoint is a
// watermark: the highest line number such that every line up to it is done (written, or rejected into
// the rejects file). Resuming skips the lines up to it and replays the rest. A batch that was partly or
// wholly written after the watermark is sent again on resume: every write is a conditional update on a
// business identifier, so replaying it changes nothing on the server (no new resource; an unchanged
// resource is not even a new version).
import { readFile, rename, writeFile } from 'node:fs/promises';
import type { ImportCounts } from './counts.ts';

export interface Checkpoint {
  readonly input: string;
  readonly format: string;
  /** Every line up to this one is done; 0 when none is. */
  readonly line: number;
  /** Counts at the watermark (lines read, offers imported, lines rejected up to `line`). */
  readonly counts: ImportCounts;
  /** True once the whole file went through. */
  readonly complete: boolean;
  readonly updatedAt: string;
}

interface Done {
  readonly lastLine: number;
  readonly counts: ImportCounts;
}

/**
 * Batches are numbered in file order when they are formed; `done(n)` says batch n finished. The
 * watermark moves past a batch only once it and all those before it are done.
 */
export class Watermark {
  #next = 0;
  readonly #finished = new Map<number, Done>();
  #line: number;
  #counts: ImportCounts;

  constructor(start: { line: number; counts: ImportCounts } = { line: 0, counts: { read: 0, imported: 0, rejected: 0 } }) {
    this.#line = start.line;
    this.#counts = { ...start.counts };
  }

  /** Records that batch `sequence` (covering lines up to `lastLine`) is done; answers whether the watermark moved. */
  done(sequence: number, lastLine: number, counts: ImportCounts): boolean {
    this.#finished.set(sequence, { lastLine, counts });
    let moved = false;
    for (let next = this.#finished.get(this.#next); next !== undefined; next = this.#finished.get(this.#next)) {
      this.#finished.delete(this.#next);
      this.#next += 1;
      this.#line = Math.max(this.#line, next.lastLine);
      this.#counts = {
        read: this.#counts.read + next.counts.read,
        imported: this.#counts.imported + next.counts.imported,
        rejected: this.#counts.rejected + next.counts.rejected,
      };
      moved = true;
    }
    return moved;
  }

  get line(): number {
    return this.#line;
  }

  get counts(): ImportCounts {
    return this.#counts;
  }
}

/** `<input>.checkpoint.json`: beside the file it belongs to. */
export function checkpointPathOf(input: string): string {
  return `${input}.checkpoint.json`;
}

export async function readCheckpoint(path: string): Promise<Checkpoint | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const value = JSON.parse(text) as Partial<Checkpoint>;
  if (typeof value.line !== 'number' || typeof value.counts !== 'object' || value.counts === null) throw new Error(`${path} is not an import checkpoint`);
  return value as Checkpoint;
}

/** Written to a temporary file then renamed: a checkpoint is never half written, even on a crash. */
export async function writeCheckpoint(path: string, checkpoint: Checkpoint): Promise<void> {
  const temporary = `${path}.tmp`;
  await writeFile(temporary, `${JSON.stringify(checkpoint, null, 2)}\n`);
  await rename(temporary, path);
}
