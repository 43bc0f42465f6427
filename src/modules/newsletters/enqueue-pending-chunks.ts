import type { Services } from '../../services.ts';
import { pendingChunks } from '../delivery/ledger-queries.ts';
import { enqueueChunks as enqueueSendChunks } from '../delivery/send-chunk-queue.ts';

/** Queues a send job for each chunk with rows still to send (a duplicate job finds nothing to claim). */
export async function enqueuePendingChunks(services: Services, teamId: string, newsletterId: number): Promise<number> {
  const chunkIds = await pendingChunks(services.sql, teamId, 'newsletter', newsletterId);
  await enqueueSendChunks(services, { teamId, kind: 'newsletter', id: newsletterId }, chunkIds);
  return chunkIds.length;
}
