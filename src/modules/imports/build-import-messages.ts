import type { KnownBlock } from '@slack/types';
import { clip, escapeMrkdwn } from '../../slack/mrkdwn.ts';
import type { ImportProgress, ImportRowError, ImportSummary } from './import-csv-in-batches.ts';
import type { CsvHeader } from './read-lead-csv.ts';
import type { SlackMessage } from '../../slack/messages.ts';

/** Direct messages about a CSV import: progress, the summary, and why a file was refused. Tests assert on these texts. */

/** Slack's limits: 3,000 characters per section, 50 blocks per message. We keep well inside both. */
const SECTION_LIMIT = 3000;
const MAX_PROBLEM_SECTIONS = 12;
const MAX_PROBLEM_LINES = 100;


const n = (value: number) => value.toLocaleString('en-US');
const plural = (count: number, one: string, many = `${one}s`) => `${n(count)} ${count === 1 ? one : many}`;

export const fileGoneText = (fileId: string) =>
  `:x: I couldn’t import the file: Slack no longer has it (${fileId}), perhaps it was deleted. Run \`/nurture import\` and upload it again.`;
export const notCsvText = (fileName: string) =>
  `:x: *${escapeMrkdwn(fileName)}* is not a CSV file. In Excel or Google Sheets, save or download it as *CSV UTF-8*, then run \`/nurture import\` again.`;
export const downloadRefusedText = (fileName: string) =>
  `:x: I couldn’t download *${escapeMrkdwn(fileName)}* from Slack: Slack answered with a sign-in page, which means Nurture lacks the *files:read* scope. ` +
  'Ask an admin to update the app from manifest.yml and reinstall it, then import again.';

/** The file as a whole could not be read (not UTF-8, no email column …); `row` is where that was found. */
export function importRefusedMessage(fileName: string, reason: string, row?: number): SlackMessage {
  const where = row !== undefined && row > 1 ? ` (row ${n(row)})` : '';
  return { text: `:x: I couldn’t import *${escapeMrkdwn(fileName)}*: ${escapeMrkdwn(reason.replace(/\.$/, ''))}${where}. Nothing was imported.` };
}

/** The progress message on long imports; the total size comes from files.info, so we can show a percentage. */
export function importProgressMessage(fileName: string, progress: ImportProgress, totalBytes?: number): SlackMessage {
  const percent = totalBytes ? ` (${Math.min(99, Math.floor((progress.bytesRead / totalBytes) * 100))}%)` : '';
  const text =
    `:hourglass_flowing_sand: Importing *${escapeMrkdwn(fileName)}*… ${plural(progress.rows, 'row')} read${percent}: ` +
    `${n(progress.created)} new, ${n(progress.updated)} updated, ${n(progress.unchanged)} unchanged, ${n(progress.failed)} not imported so far.`;
  return { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] };
}

export function importProgressDoneMessage(fileName: string, rows: number): SlackMessage {
  const text = `:white_check_mark: Finished importing *${escapeMrkdwn(fileName)}* (${plural(rows, 'row')}). The summary is below.`;
  return { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] };
}

export function importCountsText(summary: ImportSummary): string {
  return (
    `${plural(summary.rows, 'row')} read: *${n(summary.created)}* new ${summary.created === 1 ? 'lead' : 'leads'}, ` +
    `*${n(summary.updated)}* updated, *${n(summary.unchanged)}* unchanged, *${n(summary.failed)}* not imported.`
  );
}

/** The summary at the end: counts, where reading stopped (if it did), the first problem rows, and how the columns were read. */
export function importSummaryMessage(fileName: string, summary: ImportSummary): SlackMessage {
  const name = escapeMrkdwn(fileName);
  const clean = summary.failed === 0 && summary.stopped === undefined;
  const headline = clean ? `:white_check_mark: Imported *${name}*` : `:warning: Imported *${name}*, with problems`;
  const blocks: KnownBlock[] = [{ type: 'section', text: { type: 'mrkdwn', text: `${headline}\n${importCountsText(summary)}` } }];

  if (summary.stopped) {
    blocks.push({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: clip(
          `:octagonal_sign: *Reading stopped at row ${n(summary.stopped.row)}*: ${escapeMrkdwn(summary.stopped.reason)}. The rows before it were imported.`,
          SECTION_LIMIT,
        ),
      },
    });
  }

  if (summary.errors.length > 0) {
    blocks.push(...problemSections(summary.errors, summary.failed));
    blocks.push({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: 'Fix those rows and import the file again: leads already imported are updated, not duplicated.' }],
    });
  } else if (summary.failed > 0) {
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `${plural(summary.failed, 'row')} could not be imported.` } });
  }

  if (summary.header) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: columnsText(summary.header) }] });

  const text = `${clean ? 'Imported' : 'Imported, with problems,'} ${name}: ${plural(summary.rows, 'row')}, ${n(summary.created)} new, ${n(summary.updated)} updated, ${n(summary.unchanged)} unchanged, ${n(summary.failed)} not imported.`;
  return { text, blocks };
}

/** One line per problem row, packed into sections under Slack's 3,000-character limit. */
function problemSections(errors: readonly ImportRowError[], failed: number): KnownBlock[] {
  const lines = errors.slice(0, MAX_PROBLEM_LINES).map(problemLine);
  const sections: string[] = [];
  let current = `*Rows not imported*${failed > errors.length || errors.length > MAX_PROBLEM_LINES ? ` (the first ${n(Math.min(errors.length, MAX_PROBLEM_LINES))})` : ''}`;
  let shown = 0;
  for (const line of lines) {
    if (current.length + 1 + line.length > SECTION_LIMIT) {
      if (sections.length + 1 >= MAX_PROBLEM_SECTIONS) break;
      sections.push(current);
      current = '';
    }
    current = current === '' ? line : `${current}\n${line}`;
    shown += 1;
  }
  sections.push(current);
  const blocks: KnownBlock[] = sections.map((text) => ({ type: 'section', text: { type: 'mrkdwn', text } }));
  if (failed > shown) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `…and ${plural(failed - shown, 'more row')} with problems.` }] });
  return blocks;
}

function problemLine(error: ImportRowError): string {
  const who = error.email ? ` (${escapeMrkdwn(clip(error.email, 60))})` : '';
  return `• Row ${n(error.row)}${who}: ${escapeMrkdwn(clip(error.problems.join('; '), 400))}`;
}

/** "Columns: “メールアドレス” → email, …; kept as custom attributes: “Plan”." */
export function columnsText(header: CsvHeader): string {
  const mapped = header.columns.filter((column) => column.field !== undefined).map((column) => `“${clip(column.header, 40)}” → ${column.field}`);
  const attributes = header.columns.filter((column) => column.field === undefined).map((column) => `“${clip(column.header, 40)}”`);
  const parts = [`Columns: ${mapped.join(', ')}`];
  if (attributes.length > 0) parts.push(`kept as custom attributes: ${attributes.join(', ')}`);
  let text = `${parts.join('; ')}.`;
  if (header.ignoredColumns > 0) text += ` ${plural(header.ignoredColumns, 'column')} without a name ${header.ignoredColumns === 1 ? 'was' : 'were'} ignored.`;
  return clip(escapeMrkdwn(text), SECTION_LIMIT);
}
