import type { KnownBlock, ModalView } from '@slack/types';
import { ActionIds, CallbackIds } from '../../slack/ids.ts';
import { escapeMrkdwn } from '../../slack/mrkdwn.ts';

export const ImportBlockIds = {
  file: 'import_file',
  source: 'import_source',
  consent: 'import_consent',
} as const;

export const CONSENT_AGREED = 'agreed';
export const MAX_SOURCE_LENGTH = 100;

/** Slack refuses files over 10 MB in a file_input; bigger files go through the command-line import. */
export const SLACK_FILE_LIMIT_TEXT = 'Up to 10 MB here. For bigger files use the command-line import: `npm run import -- --help`.';

/** `/nurture import`: the file, where the leads came from, and the consent confirmation. */
export function buildImportModal(): ModalView {
  const blocks: KnownBlock[] = [
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text:
          'Upload a *CSV file* (UTF-8) whose first row names the columns. It needs an *email* column. ' +
          'First name, last name, company, title, industry, stage, time zone and locale columns (English or Japanese headers) fill those fields; ' +
          'every other column is kept as a custom attribute. Importing a lead again updates it, never duplicates it.',
      },
    },
    {
      type: 'input',
      block_id: ImportBlockIds.file,
      label: { type: 'plain_text', text: 'CSV file' },
      element: { type: 'file_input', action_id: ActionIds.importFileInput, filetypes: ['csv'], max_files: 1 },
      hint: { type: 'plain_text', text: SLACK_FILE_LIMIT_TEXT.replace(/`/g, '') },
    },
    {
      type: 'input',
      block_id: ImportBlockIds.source,
      optional: true,
      label: { type: 'plain_text', text: 'Source' },
      element: {
        type: 'plain_text_input',
        action_id: ActionIds.importSourceInput,
        max_length: MAX_SOURCE_LENGTH,
        placeholder: { type: 'plain_text', text: 'e.g. webinar-2026-11' },
      },
      hint: { type: 'plain_text', text: 'Recorded on new leads whose row has no source column.' },
    },
    {
      type: 'input',
      block_id: ImportBlockIds.consent,
      label: { type: 'plain_text', text: 'Consent' },
      element: {
        type: 'checkboxes',
        action_id: ActionIds.importConsentInput,
        options: [
          {
            text: { type: 'mrkdwn', text: '*Everyone in this file agreed to receive email from us*' },
            description: { type: 'plain_text', text: 'Recorded on new leads, with your name and the file.' },
            value: CONSENT_AGREED,
          },
        ],
      },
    },
  ];
  return {
    type: 'modal',
    callback_id: CallbackIds.importModal,
    title: { type: 'plain_text', text: 'Import leads' },
    submit: { type: 'plain_text', text: 'Import' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks,
  };
}

/** What the modal turns into once submitted. */
export function buildImportStartedModal(fileName: string): ModalView {
  return {
    type: 'modal',
    title: { type: 'plain_text', text: 'Import leads' },
    close: { type: 'plain_text', text: 'Close' },
    blocks: [
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: `:inbox_tray: Importing *${escapeMrkdwn(fileName)}*. I’ll send you a direct message with the results when it is done; on a large file I’ll show the progress there too.`,
        },
      },
    ],
  };
}
