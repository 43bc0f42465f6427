import type { Services } from '../../services.ts';
import { pendingChunks } from '../delivery/ledger-queries.ts';
import { sendChunkQueue } from '../delivery/send-chunk-queue.ts';

/** Queues a send job for each chunk with rows still to send (a duplicate job finds nothing to claim). */
export async function enqueueChunks(services: Services, teamId: string, newsletterId: number): Promise<number> {
  const chunkIds = await pendingChunks(services.sql, teamId, 'newsletter', newsletterId);
  await services.enqueue.many(sendChunkQueue, chunkIds.map((chunkId) => ({ payload: { teamId, chunkId } })));
  return chunkIds.length;
}
