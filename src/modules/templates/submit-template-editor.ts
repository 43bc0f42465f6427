import type { SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import { UserFacingError } from '../../lib/errors.ts';
import type { Services } from '../../services.ts';
import { clip } from '../../slack/mrkdwn.ts';
import { requireRole } from '../roles/roles.ts';
import { templateSavedText } from './build-template-messages.ts';
import { EditorMetadataSchema, readEditorValues, TemplateBlockIds } from './build-template-modal.ts';
import { changeTemplate, checkTemplateDraft, createTemplate, type DraftProblem } from './templates.ts';
import { parseJsonText } from './parse-json-text.ts';

type ViewSubmission = Pick<SlackViewMiddlewareArgs<ViewSubmitAction>, 'ack' | 'body' | 'view'>;

/** Slack shows an error under its input block; a few lines of problems fit, more are summarised. */
const ERROR_LIMIT = 1000;
const PROBLEMS_SHOWN = 5;

/**
 * The editor's Save: checks the fields (zod) and the Liquid (line and reason of each problem, under its
 * field), refuses a name another template has, saves with an audit entry, closes the modal and confirms
 * by DM.
 */
export async function submitTemplateEditor(services: Services, { ack, body, view }: ViewSubmission): Promise<void> {
  const teamId = body.team?.id ?? view.team_id;
  const userId = body.user.id;
  const metadata = parseJsonText(EditorMetadataSchema, view.private_metadata);
  if (!metadata.success) {
    await ack({ response_action: 'errors', errors: { [TemplateBlockIds.name]: 'This form is out of date. Close it and open it again.' } });
    return;
  }
  const { templateId } = metadata.data;
  const checked = checkTemplateDraft(readEditorValues(view.state.values as Parameters<typeof readEditorValues>[0]));
  if (!checked.ok) {
    await ack({ response_action: 'errors', errors: fieldErrors(checked.problems) });
    return;
  }

  let saved;
  try {
    await requireRole(services, teamId, userId, ['marketer'], templateId === undefined ? 'Writing templates' : 'Changing templates');
    saved = templateId === undefined
      ? await createTemplate(services, teamId, userId, checked.content)
      : await changeTemplate(services, teamId, userId, templateId, checked.content);
  } catch (error) {
    if (!(error instanceof UserFacingError)) throw error;
    await ack({ response_action: 'errors', errors: { [TemplateBlockIds.name]: clip(error.message, ERROR_LIMIT) } });
    return;
  }
  await ack();
  services.logger.info({ teamId, userId, templateId: saved.id, created: templateId === undefined }, 'template saved');
  await services.slack.chat.postMessage({ channel: userId, text: templateSavedText(saved, templateId === undefined) });
}

function fieldErrors(problems: readonly DraftProblem[]): Record<string, string> {
  const byField = new Map<string, string[]>();
  for (const problem of problems) {
    const blockId = TemplateBlockIds[problem.field];
    byField.set(blockId, [...(byField.get(blockId) ?? []), problem.message]);
  }
  return Object.fromEntries(
    [...byField].map(([blockId, messages]) => {
      const more = messages.length > PROBLEMS_SHOWN ? `\n…and ${messages.length - PROBLEMS_SHOWN} more.` : '';
      return [blockId, clip(messages.slice(0, PROBLEMS_SHOWN).join('\n') + more, ERROR_LIMIT)];
    }),
  );
}
