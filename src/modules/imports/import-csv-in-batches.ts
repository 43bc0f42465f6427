import { CsvFileError, readLeadCsv, type CsvHeader } from './read-lead-csv.ts';

/**
 * The part of a CSV import that the Slack job and the command-line tool share: read the file as a
 * stream, hand rows on in batches (to upsertLeads, or to the HTTP API), turn each batch's per-item
 * errors back into row numbers, and add it all up. Reading the next batch overlaps with writing the
 * previous one; at most `maxInFlight` batches are being written at once, so memory stays flat.
 */

export const IMPORT_BATCH_SIZE = 1000;
/** Problems kept to show; all are counted. */
export const MAX_REPORTED_ERRORS = 200;

/** What one batch write answers: upsertLeads' result and the API's body have this shape. */
export interface BatchOutcome {
  created: number;
  updated: number;
  unchanged: number;
  failed: number;
  errors: ReadonlyArray<{ index: number; email?: string; problems: readonly string[] }>;
}

export type SendBatch = (leads: Array<Record<string, unknown>>) => Promise<BatchOutcome>;

export interface ImportRowError {
  row: number;
  email?: string;
  problems: string[];
}

export interface ImportCounts {
  /** Data rows read (blank rows are not counted). */
  rows: number;
  created: number;
  updated: number;
  unchanged: number;
  failed: number;
}

export interface ImportProgress extends ImportCounts {
  /** Bytes of the file read so far (a little ahead of the rows written). */
  bytesRead: number;
}

export interface ImportSummary extends ImportCounts {
  /** The first problems by row number (at most MAX_REPORTED_ERRORS; `failed` counts them all). */
  errors: ImportRowError[];
  /** How the columns were read; undefined only when the header could not be. */
  header?: CsvHeader;
  /** Set when reading stopped part-way (e.g. invalid bytes): rows before `row` were imported. */
  stopped?: { row: number; reason: string };
}

export interface ImportCsvOptions {
  batchSize?: number;
  maxInFlight?: number;
  maxErrors?: number;
  /** Called after each batch is written. Keep it quick: it is not awaited. */
  onProgress?: (progress: ImportProgress) => void;
  signal?: AbortSignal;
}

export async function importCsvInBatches(input: AsyncIterable<Uint8Array>, sendBatch: SendBatch, options: ImportCsvOptions = {}): Promise<ImportSummary> {
  const batchSize = options.batchSize ?? IMPORT_BATCH_SIZE;
  const maxInFlight = options.maxInFlight ?? 1;
  const maxErrors = options.maxErrors ?? MAX_REPORTED_ERRORS;
  const summary: ImportSummary = { rows: 0, created: 0, updated: 0, unchanged: 0, failed: 0, errors: [] };
  let bytesRead = 0;

  const addErrors = (errors: ImportRowError[]) => {
    summary.failed += errors.length;
    summary.errors.push(...errors);
    // Batches may finish out of order: trim now and then, keeping the lowest rows.
    if (summary.errors.length > maxErrors * 2) trimErrors(summary.errors, maxErrors);
  };

  const inFlight = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  const send = (leads: Array<Record<string, unknown>>, rows: number[]) => {
    const write = (async () => {
      const outcome = await sendBatch(leads);
      summary.created += outcome.created;
      summary.updated += outcome.updated;
      summary.unchanged += outcome.unchanged;
      addErrors(outcome.errors.map((error) => ({ row: rows[error.index] ?? 0, ...(error.email ? { email: error.email } : {}), problems: [...error.problems] })));
      options.onProgress?.({ ...counts(summary), bytesRead });
    })().catch((error: unknown) => {
      failure ??= { error };
    });
    const tracked = write.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
  };

  let leads: Array<Record<string, unknown>> = [];
  let rows: number[] = [];
  const counted = countBytes(input, (n) => (bytesRead += n));
  try {
    for await (const item of readLeadCsv(counted, { onHeader: (header) => (summary.header = header) })) {
      options.signal?.throwIfAborted();
      if (failure) break;
      summary.rows += 1;
      if ('problem' in item) {
        addErrors([{ row: item.row, ...(item.email ? { email: item.email } : {}), problems: [item.problem] }]);
        continue;
      }
      leads.push(item.lead);
      rows.push(item.row);
      if (leads.length >= batchSize) {
        while (inFlight.size >= maxInFlight) await Promise.race(inFlight);
        if (failure) break;
        send(leads, rows);
        leads = [];
        rows = [];
      }
    }
    if (leads.length > 0 && !failure) send(leads, rows);
  } catch (error) {
    // A file problem before any row was read refuses the file; later, what was read stays imported.
    if (!(error instanceof CsvFileError) || summary.rows === 0 || error.row === undefined) {
      await Promise.all(inFlight);
      throw error;
    }
    if (leads.length > 0 && !failure) send(leads, rows);
    summary.stopped = { row: error.row, reason: error.message };
  }
  await Promise.all(inFlight);
  if (failure) throw failure.error;
  trimErrors(summary.errors, maxErrors);
  return summary;
}

function counts(summary: ImportCounts): ImportCounts {
  const { rows, created, updated, unchanged, failed } = summary;
  return { rows, created, updated, unchanged, failed };
}

function trimErrors(errors: ImportRowError[], max: number) {
  errors.sort((a, b) => a.row - b.row);
  errors.length = Math.min(errors.length, max);
}

async function* countBytes(input: AsyncIterable<Uint8Array>, add: (n: number) => void): AsyncGenerator<Uint8Array> {
  for await (const chunk of input) {
    add(chunk.byteLength);
    yield chunk;
  }
}
