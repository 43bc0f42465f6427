import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PermissionDeniedError } from '../../lib/errors.ts';
import { newReferenceId } from '../../lib/reference-id.ts';
import type { JobContext } from '../../queue/define-queue.ts';
import type { Services } from '../../services.ts';
import { unexpectedErrorText } from '../../slack/messages.ts';
import { requireRole } from '../roles/roles.ts';
import { recordAudit } from '../workspaces/queries.ts';
import { exportGoneText, exportReadyText } from './build-segment-messages.ts';
import { findSegmentById, pageAudience, type SegmentRow } from './queries.ts';
import { CSV_BOM, csvHeader, csvMemberLine } from './segment-csv.ts';
import { purposeOf, ruleContext } from './segments.ts';

/** Leads per keyset page: each page is one indexed query, and memory holds one page at a time. */
export const EXPORT_PAGE_SIZE = 1000;
export const EXPORT_RETRY_LIMIT = 2;

export interface ExportSegmentPayload {
  teamId: string;
  userId: string;
  segmentId: number;
  /** For messages when the segment is gone by the time the job runs. */
  segmentName: string;
}

/**
 * The `segments.export-csv` job: pages through the audience by keyset into a CSV file on disk and
 * uploads it to the person's DM. "Within N days" is measured from the job's start, so every page sees
 * the same audience. Roles are checked again: they may have changed since the command.
 */
export async function exportSegmentCsv(payload: ExportSegmentPayload, context: JobContext): Promise<void> {
  const { services } = context;
  const { teamId, userId, segmentId } = payload;
  const log = services.logger.child({ job: 'segments.export-csv', jobId: context.jobId, teamId, userId, segmentId });
  const dm = (text: string) => services.slack.chat.postMessage({ channel: userId, text });
  try {
    await requireRole(services, teamId, userId, ['marketer'], 'Exporting a segment');
    const segment = await findSegmentById(services.sql, teamId, segmentId);
    if (!segment) {
      await dm(exportGoneText(payload.segmentName));
      return;
    }
    const directory = await mkdtemp(path.join(tmpdir(), 'nurture-export-'));
    try {
      const file = path.join(directory, 'export.csv');
      const rows = await writeAudienceCsv(services, segment, file, context.signal);
      // Posting first gives us the DM's channel id (D…), which file uploads need; chat:write covers it.
      const posted = await dm(exportReadyText(segment.name, rows, purposeOf(segment)));
      await services.slack.filesUploadV2({
        channel_id: posted.channel!,
        file,
        filename: exportFileName(segment, new Date()),
        title: `${segment.name} (${rows.toLocaleString('en-US')} leads)`,
      });
      await recordAudit(services.sql, { teamId, actorUserId: userId, action: 'segment.exported', subject: String(segment.id), details: { name: segment.name, rows } });
      log.info({ rows }, 'segment exported');
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  } catch (error) {
    if (error instanceof PermissionDeniedError) {
      await dm(error.message);
      return;
    }
    if (context.retryCount >= EXPORT_RETRY_LIMIT) {
      const referenceId = newReferenceId();
      log.error({ err: error, referenceId }, 'segment export failed; no retries left');
      await dm(unexpectedErrorText(referenceId)).catch((dmError) => log.error({ err: dmError, referenceId }, 'could not tell the person about the failure'));
    }
    throw error;
  }
}

/** Writes the header and every member, page by page; returns how many leads were written. */
async function writeAudienceCsv(services: Services, segment: SegmentRow, file: string, signal: AbortSignal): Promise<number> {
  const context = ruleContext(segment.team_id, new Date());
  const purpose = purposeOf(segment);
  const handle = await open(file, 'w');
  try {
    await handle.write(CSV_BOM + csvHeader());
    let afterId = 0;
    let rows = 0;
    for (;;) {
      signal.throwIfAborted();
      const page = await pageAudience(services.sql, segment.rule, context, { purpose, afterId, limit: EXPORT_PAGE_SIZE });
      if (page.length === 0) break;
      await handle.write(page.map(csvMemberLine).join(''));
      rows += page.length;
      afterId = page.at(-1)!.id;
      if (page.length < EXPORT_PAGE_SIZE) break;
    }
    return rows;
  } finally {
    await handle.close();
  }
}

/** e.g. `Mfg VPs 2026-11-27.csv`; characters file systems refuse become "-". */
export function exportFileName(segment: Pick<SegmentRow, 'name'>, at: Date): string {
  const safe = segment.name.replace(/[\\/:*?"<>|\u0000-\u001f]/g, '-').trim() || 'segment';
  return `${safe} ${at.toISOString().slice(0, 10)}.csv`;
}
