// The tally of an import, shared by the engine that makes it, the watermark that sums it and the
// progress line that shows it; in its own module so that none of them imports another for its type.
export interface ImportCounts {
  /** Lines read (blank lines aside). */
  readonly read: number;
  /** Offers written (in a dry run: that would have been written). */
  readonly imported: number;
  /** Lines rejected, each in the rejects with its OperationOutcome. */
  readonly rejected: number;
}
