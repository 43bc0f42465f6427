import type { SendOptions } from 'pg-boss';
import { z } from 'zod';
import type { TransactionSql } from '../../db/client.ts';
import { defineQueue } from '../../queue/define-queue.ts';
import type { Services } from '../../services.ts';
import { SOURCE_KINDS, type SourceKind } from './email-source.ts';
import { sendChunk } from './send-chunk.ts';

export const SendChunkPayloadSchema = z.object({
  teamId: z.string().min(1),
  /** email_sends.chunk_id: up to 100 rows of one source. */
  chunkId: z.number().int().positive(),
  /** The source of its rows (checked against them), so the job asks the source first without a lookup. */
  sourceKind: z.enum(SOURCE_KINDS),
  sourceId: z.number().int().positive(),
});
export type SendChunkPayload = z.infer<typeof SendChunkPayloadSchema>;

/**
 * One batch call's worth of emails (see send-chunk.ts). A 100,000-recipient newsletter is 1,000 jobs:
 * workers fetch several at a time and keep fetching while batches come back full (burst), and each
 * process runs a few batches at once so rendering overlaps Resend's answers. Retries are many and slow:
 * a job whose batch may have been sent keeps its rows claimed, and every retry resends them under the same
 * Idempotency-Key until Resend answers; a send that keeps failing pauses itself first.
 */
export const sendChunkQueue = defineQueue({
  name: 'delivery.send-chunk',
  payload: SendChunkPayloadSchema,
  queue: { notify: true, retryLimit: 30, retryDelay: 5, retryBackoff: true, retryDelayMax: 600, expireInSeconds: 900, retentionSeconds: 7 * 24 * 3600 },
  worker: { batchSize: 4, localConcurrency: 3, burstWhenBatchFull: true, pollingIntervalSeconds: 0.5, notifyPollingIntervalSeconds: 2 },
  handle: (payload, context) => sendChunk(context.services, payload, context.signal),
});

/** One job per chunk of a source's ledger rows, in one statement. A duplicate job finds nothing left to claim. */
export async function enqueueChunks(services: Services, source: { teamId: string; kind: SourceKind; id: number }, chunkIds: readonly number[]): Promise<void> {
  await services.enqueue.many(
    sendChunkQueue,
    chunkIds.map((chunkId) => ({ payload: { teamId: source.teamId, chunkId, sourceKind: source.kind, sourceId: source.id } })),
  );
}

/**
 * Send jobs inserted through an open transaction (pg-boss runs its insert on our connection): they exist
 * exactly when the ledger rows written in it do. One insert per chunk: the fan-out insert takes no
 * connection of ours (enqueue.many does not take the `db` option).
 */
export async function enqueueChunksInTransaction(services: Services, tx: TransactionSql, jobs: readonly SendChunkPayload[]): Promise<void> {
  if (jobs.length === 0) return;
  const db: NonNullable<SendOptions['db']> = { executeSql: async (text, values) => ({ rows: await tx.unsafe(text, (values ?? []) as never[]) }) };
  for (const job of jobs) await services.enqueue(sendChunkQueue, job, { db });
}
