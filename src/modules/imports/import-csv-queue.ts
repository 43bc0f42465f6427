import { z } from 'zod';
import { defineQueue } from '../../queue/define-queue.ts';
import { IMPORT_RETRY_LIMIT, runCsvImport } from './run-csv-import.ts';

export const ImportCsvPayloadSchema = z.object({
  teamId: z.string().min(1),
  userId: z.string().min(1),
  /** A file uploaded through the import modal's file input. */
  fileId: z.string().min(1),
  /** `source` for new leads whose row names none. */
  source: z.string().trim().min(1).max(100).optional(),
  /** When the person confirmed that everyone in the file agreed to receive email (the modal refuses without it). */
  consentConfirmedAt: z.iso.datetime({ offset: true }),
});
export type ImportCsvPayload = z.infer<typeof ImportCsvPayloadSchema>;

/**
 * One CSV import from Slack. A long job (100,000 rows take seconds, a slow download longer), so it may
 * stay active for up to an hour; a retry or two covers a download that broke off. Upserts are
 * idempotent, so a retry re-imports the same rows harmlessly. Someone is waiting: NOTIFY for pickup.
 */
export const importCsvQueue = defineQueue({
  name: 'leads.import-csv',
  payload: ImportCsvPayloadSchema,
  queue: { notify: true, retryLimit: IMPORT_RETRY_LIMIT, retryDelay: 30, retryBackoff: true, expireInSeconds: 3600, retentionSeconds: 24 * 3600 },
  worker: { batchSize: 1, pollingIntervalSeconds: 2, notifyPollingIntervalSeconds: 10 },
  handle: (payload, context) => runCsvImport(payload, context),
});
