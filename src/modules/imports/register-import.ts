import type { App } from '@slack/bolt';
import { z } from 'zod';
import type { Services } from '../../services.ts';
import { ActionIds, CallbackIds } from '../../slack/ids.ts';
import { buildImportStartedModal, CONSENT_AGREED, ImportBlockIds, MAX_SOURCE_LENGTH } from './build-import-modal.ts';
import { importCsvQueue } from './import-csv-queue.ts';

export const NO_FILE_TEXT = 'Choose the CSV file to import.';
export const ONE_FILE_TEXT = 'Import one file at a time.';
export const NOT_CSV_TEXT = 'Only CSV files: in Excel use Save As → CSV UTF-8; in Google Sheets, File → Download → CSV.';
export const CONSENT_REQUIRED_TEXT = 'Only import people who agreed to receive email from you: tick this to confirm.';

const FileSchema = z.looseObject({ id: z.string().min(1), name: z.string().optional(), filetype: z.string().optional() });

/** The submitted modal's state: block_id → action_id → value, as Slack sends it. */
const ImportSubmissionSchema = z.object({
  [ImportBlockIds.file]: z.object({
    [ActionIds.importFileInput]: z.object({
      files: z
        .array(FileSchema, { message: NO_FILE_TEXT })
        .min(1, NO_FILE_TEXT)
        .max(1, ONE_FILE_TEXT)
        .refine(([file]) => file === undefined || file.filetype === 'csv' || /\.csv$/i.test(file.name ?? ''), NOT_CSV_TEXT),
    }, { error: NO_FILE_TEXT }),
  }, { error: NO_FILE_TEXT }),
  [ImportBlockIds.source]: z
    .object({
      [ActionIds.importSourceInput]: z.object({
        value: z
          .string()
          .trim()
          .max(MAX_SOURCE_LENGTH, `At most ${MAX_SOURCE_LENGTH} characters.`)
          .nullish()
          .transform((value) => value || undefined),
      }),
    })
    .optional(),
  [ImportBlockIds.consent]: z.object({
    [ActionIds.importConsentInput]: z.object({
      selected_options: z
        .array(z.looseObject({ value: z.string() }), { message: CONSENT_REQUIRED_TEXT })
        .refine((options) => options.some((option) => option.value === CONSENT_AGREED), CONSENT_REQUIRED_TEXT),
    }, { error: CONSENT_REQUIRED_TEXT }),
  }, { error: CONSENT_REQUIRED_TEXT }),
});

/** The import modal's submission: validated here (errors shown beside the fields), imported by a queued job. */
export function registerImport(app: App, services: Services) {
  app.view(CallbackIds.importModal, async ({ ack, body, view }) => {
    const parsed = ImportSubmissionSchema.safeParse(view.state.values);
    if (!parsed.success) {
      const errors: Record<string, string> = {};
      for (const issue of parsed.error.issues) {
        // Errors are shown under the input block they name.
        errors[String(issue.path[0] ?? ImportBlockIds.file)] ??= issue.message;
      }
      await ack({ response_action: 'errors', errors });
      return;
    }
    const file = parsed.data[ImportBlockIds.file][ActionIds.importFileInput].files[0]!;
    const source = parsed.data[ImportBlockIds.source]?.[ActionIds.importSourceInput].value;
    const consentConfirmedAt = new Date().toISOString();
    await ack({ response_action: 'update', view: buildImportStartedModal(file.name ?? file.id) });
    // After the ack (Slack allows 3 s): if this fails, the app's error handler tells the person by DM.
    await services.enqueue(importCsvQueue, {
      teamId: body.team?.id ?? view.team_id,
      userId: body.user.id,
      fileId: file.id,
      source,
      consentConfirmedAt,
    });
    services.logger.info({ teamId: body.team?.id ?? view.team_id, userId: body.user.id, fileId: file.id }, 'csv import queued');
  });
}
