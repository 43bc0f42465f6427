import { postAlertsQueue } from '../modules/alerts/post-alerts-queue.ts';
import { sweepAlertsQueue } from '../modules/alerts/sweep-alerts-queue.ts';
import { sendChunkQueue } from '../modules/delivery/send-chunk-queue.ts';
import { maintainPartitionsQueue } from '../modules/events/maintain-partitions-queue.ts';
import { publishHomeQueue } from '../modules/home/publish-home-queue.ts';
import { importCsvQueue } from '../modules/imports/import-csv-queue.ts';
import { startNewsletterQueue } from '../modules/newsletters/start-newsletter-queue.ts';
import { updateNewsletterCardQueue } from '../modules/newsletters/update-newsletter-card-queue.ts';
import { exportSegmentCsvQueue } from '../modules/segments/export-segment-csv-queue.ts';
import { recordSegmentSizesQueue } from '../modules/segments/record-segment-sizes-queue.ts';
import { processWebhookQueue } from '../modules/resend-webhooks/process-webhook-queue.ts';
import { pruneWebhooksQueue } from '../modules/resend-webhooks/prune-webhooks-queue.ts';
import { scoreEventsQueue } from '../modules/scoring/score-events-queue.ts';
import { reactToEventsQueue } from '../modules/sequences/react-to-events-queue.ts';
import { sweepSegmentTriggersQueue } from '../modules/sequences/sweep-segment-triggers-queue.ts';
import { tickSequencesQueue } from '../modules/sequences/tick-sequences-queue.ts';
import type { QueueDefinition } from './define-queue.ts';

/** Every queue, one line each. A queue missing here can neither be sent to nor worked. */
export const QUEUES: readonly QueueDefinition[] = [
  publishHomeQueue,
  maintainPartitionsQueue,
  importCsvQueue,
  exportSegmentCsvQueue,
  recordSegmentSizesQueue,
  processWebhookQueue,
  pruneWebhooksQueue,
  sendChunkQueue,
  startNewsletterQueue,
  updateNewsletterCardQueue,
  tickSequencesQueue,
  sweepSegmentTriggersQueue,
  reactToEventsQueue,
  scoreEventsQueue,
  postAlertsQueue,
  sweepAlertsQueue,
];
