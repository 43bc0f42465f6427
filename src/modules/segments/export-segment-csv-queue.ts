import { z } from 'zod';
import { defineQueue } from '../../queue/define-queue.ts';
import { EXPORT_RETRY_LIMIT, exportSegmentCsv } from './export-segment-csv.ts';

export const ExportSegmentCsvPayloadSchema = z.object({
  teamId: z.string().min(1),
  userId: z.string().min(1),
  segmentId: z.number().int().positive(),
  segmentName: z.string().min(1).max(80),
});

/**
 * `/nurture segment export <name>`: a CSV of the audience, sent to the person's DM. Someone is waiting:
 * NOTIFY for pickup. A large audience takes a while to page through and upload: up to 30 minutes.
 */
export const exportSegmentCsvQueue = defineQueue({
  name: 'segments.export-csv',
  payload: ExportSegmentCsvPayloadSchema,
  queue: { notify: true, retryLimit: EXPORT_RETRY_LIMIT, retryDelay: 30, retryBackoff: true, expireInSeconds: 1800, retentionSeconds: 24 * 3600 },
  worker: { batchSize: 1, pollingIntervalSeconds: 2, notifyPollingIntervalSeconds: 10 },
  handle: (payload, context) => exportSegmentCsv(payload, context),
});
