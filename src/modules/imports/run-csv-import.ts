import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { WebAPIPlatformError } from '@slack/web-api';
import { PermissionDeniedError, UserFacingError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/logger.ts';
import { newReferenceId } from '../../lib/reference-id.ts';
import type { JobContext } from '../../queue/define-queue.ts';
import type { Services } from '../../services.ts';
import { unexpectedErrorText } from '../../slack/messages.ts';
import { clip } from '../../slack/mrkdwn.ts';
import { requireRole } from '../roles/roles.ts';
import { touchWorkspace } from '../workspaces/queries.ts';
import {
  downloadRefusedText,
  fileGoneText,
  importProgressDoneMessage,
  importProgressMessage,
  importRefusedMessage,
  importSummaryMessage,
  notCsvText,
} from './build-import-messages.ts';
import type { ImportProgress } from './import-csv-in-batches.ts';
import type { ImportCsvPayload } from './import-csv-queue.ts';
import { importLeadsCsv } from './import-leads-csv.ts';
import { CsvFileError } from './read-lead-csv.ts';
import type { SlackMessage } from '../../slack/messages.ts';

export const IMPORT_RETRY_LIMIT = 2;
/** Imports shorter than this get only the summary; longer ones a progress message too. */
export const PROGRESS_AFTER_MS = 2_000;
/** chat.update at most this often (Slack allows roughly one message write per second per channel). */
export const PROGRESS_EVERY_MS = 2_000;

/** A file the person cannot import as it is; the message says what to do. */
class ImportFileError extends UserFacingError {
  override name = 'ImportFileError';
}

/**
 * The `leads.import-csv` job: checks the person may import, fetches the file's details and streams its
 * download straight into the importer, and tells the person how it went by direct message.
 * Business outcomes (no permission, a file that cannot be read) return; transient failures throw
 * and are retried, and the person hears about it on the last attempt.
 */
export async function runCsvImport(payload: ImportCsvPayload, context: JobContext): Promise<void> {
  const { services, signal } = context;
  const { teamId, userId, fileId } = payload;
  const log = services.logger.child({ job: 'leads.import-csv', jobId: context.jobId, teamId, userId, fileId });
  const dm = (message: SlackMessage) => services.slack.chat.postMessage({ channel: userId, ...message });
  let fileName = fileId;

  try {
    await requireRole(services, teamId, userId, ['marketer'], 'Importing leads');
    await touchWorkspace(services.sql, teamId);
    const file = await fileInfo(services, fileId);
    fileName = file.name;
    if (file.filetype !== 'csv' && !/\.csv$/i.test(file.name)) throw new ImportFileError(notCsvText(file.name));
    const body = await downloadSlackFile(services, file, signal);

    const progress = progressReporter(services, log, userId, file.name, file.size);
    try {
      const summary = await importLeadsCsv({ sql: services.sql, trackingSecret: services.config.trackingSecret }, teamId, body, {
        source: payload.source ?? `csv import (${clip(file.name, 80)})`,
        consent: { at: payload.consentConfirmedAt, source: `csv import by <@${userId}> (${clip(file.name, 150)})` },
        onProgress: progress.update,
        signal,
      });
      await progress.finish(summary.rows);
      await dm(importSummaryMessage(file.name, summary));
      log.info({ rows: summary.rows, created: summary.created, updated: summary.updated, unchanged: summary.unchanged, failed: summary.failed, stopped: summary.stopped?.row }, 'csv import finished');
    } catch (error) {
      await progress.finish();
      throw error;
    }
  } catch (error) {
    if (error instanceof CsvFileError) {
      log.info({ reason: error.message, row: error.row }, 'csv import refused');
      await dm(importRefusedMessage(fileName, error.message, error.row));
      return;
    }
    if (error instanceof PermissionDeniedError || error instanceof ImportFileError) {
      log.info({ reason: error.message }, 'csv import not started');
      await dm({ text: error.message });
      return;
    }
    if (context.retryCount >= IMPORT_RETRY_LIMIT) {
      const referenceId = newReferenceId();
      log.error({ err: error, referenceId }, 'csv import failed; no retries left');
      await dm({ text: unexpectedErrorText(referenceId) }).catch((dmError) => log.error({ err: dmError, referenceId }, 'could not tell the person about the failure'));
    }
    throw error;
  }
}

interface SlackFile {
  id: string;
  name: string;
  filetype?: string;
  size?: number;
  url: string;
}

async function fileInfo(services: Services, fileId: string): Promise<SlackFile> {
  try {
    const { file } = await services.slack.files.info({ file: fileId });
    const url = file?.url_private_download ?? file?.url_private;
    if (!file || !url) throw new ImportFileError(fileGoneText(fileId));
    return { id: fileId, name: file.name ?? file.title ?? fileId, filetype: file.filetype, size: file.size, url };
  } catch (error) {
    if (error instanceof WebAPIPlatformError && ['file_not_found', 'file_deleted'].includes(error.data.error)) throw new ImportFileError(fileGoneText(fileId));
    throw error;
  }
}

/**
 * Streams a private Slack file (never buffered whole). The bot token goes only to Slack's own hosts
 * (or the Slack API double SLACK_API_URL points at). Without a valid token Slack answers 200 with its
 * sign-in page rather than an error, so an HTML answer means the token or the files:read scope is missing.
 */
async function downloadSlackFile(services: Services, file: SlackFile, signal: AbortSignal): Promise<Readable> {
  if (!isSlackFileUrl(file.url, services.config.slack.apiUrl)) throw new Error(`refusing to send the bot token to ${new URL(file.url).host}`);
  const response = await fetch(file.url, { headers: { authorization: `Bearer ${services.config.slack.botToken}` }, signal });
  if (!response.ok || !response.body) throw new Error(`downloading the file from Slack failed: HTTP ${response.status}`);
  if ((response.headers.get('content-type') ?? '').toLowerCase().startsWith('text/html')) {
    await response.body.cancel();
    throw new ImportFileError(downloadRefusedText(file.name));
  }
  return Readable.fromWeb(response.body as WebReadableStream<Uint8Array>);
}

function isSlackFileUrl(url: string, apiUrl: string | undefined): boolean {
  const target = new URL(url);
  if (apiUrl !== undefined && target.origin === new URL(apiUrl).origin) return true;
  return target.protocol === 'https:' && (target.hostname === 'slack.com' || target.hostname.endsWith('.slack.com'));
}

/**
 * One progress message, posted once the import has run PROGRESS_AFTER_MS and updated at most every
 * PROGRESS_EVERY_MS. Progress is best effort: a failed update is logged, never fails the import.
 */
export function progressReporter(services: Pick<Services, 'slack'>, log: Logger, userId: string, fileName: string, totalBytes?: number, now: () => number = Date.now) {
  const startedAt = now();
  let lastShownAt = 0;
  let message: { channel: string; ts: string } | undefined;
  let chain: Promise<void> = Promise.resolve();
  const show = (content: SlackMessage) => {
    chain = chain
      .then(async () => {
        if (message) {
          await services.slack.chat.update({ channel: message.channel, ts: message.ts, ...content });
        } else {
          const posted = await services.slack.chat.postMessage({ channel: userId, ...content });
          if (posted.channel && posted.ts) message = { channel: posted.channel, ts: posted.ts };
        }
      })
      .catch((error: unknown) => log.warn({ err: error }, 'could not show import progress'));
  };
  return {
    update(progress: ImportProgress) {
      const at = now();
      if (at - startedAt < PROGRESS_AFTER_MS || at - lastShownAt < PROGRESS_EVERY_MS) return;
      lastShownAt = at;
      show(importProgressMessage(fileName, progress, totalBytes));
    },
    /** Waits for pending updates; turns a shown progress message into "finished" (when `rows` is given). */
    async finish(rows?: number) {
      await chain;
      if (message && rows !== undefined) {
        show(importProgressDoneMessage(fileName, rows));
        await chain;
      }
    },
  };
}
