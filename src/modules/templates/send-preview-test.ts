import type { BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { UserFacingError } from '../../lib/errors.ts';
import type { Services } from '../../services.ts';
import { requireRole } from '../roles/roles.ts';
import { SEND_TEST_STALE_TEXT, SendTestValueSchema } from './build-template-messages.ts';
import { compileTemplate } from './compile-template.ts';
import { findMergeLead, findTemplateById, templateContentOf } from './queries.ts';
import { sendTestEmail } from './send-test-email.ts';
import { parseJsonText } from './parse-json-text.ts';

type SendTestClick = Pick<SlackActionMiddlewareArgs<BlockButtonAction>, 'body' | 'action' | 'respond'>;

/**
 * "Send me a test" under a preview (acked already): the template as it is saved now, for the previewed
 * lead or the sample person, to the clicking person's own address. The answer is a new ephemeral message;
 * the preview stays.
 */
export async function sendPreviewTest(services: Services, { body, action, respond }: SendTestClick): Promise<void> {
  const answer = (text: string) => respond({ response_type: 'ephemeral', replace_original: false, text });
  const teamId = body.team?.id;
  const value = parseJsonText(SendTestValueSchema, action.value);
  if (!teamId || !value.success) return void (await answer(SEND_TEST_STALE_TEXT));
  try {
    await requireRole(services, teamId, body.user.id, ['marketer'], 'Sending test emails');
    const { templateId, leadId } = value.data;
    const template = await findTemplateById(services.sql, teamId, templateId);
    const lead = leadId === undefined ? undefined : await findMergeLead(services.sql, teamId, leadId);
    if (!template || (leadId !== undefined && !lead)) return void (await answer(SEND_TEST_STALE_TEXT));
    const result = await sendTestEmail(services, { teamId, userId: body.user.id, template: compileTemplate(templateContentOf(template)), ...(lead ? { lead } : {}) });
    await answer(result.text);
  } catch (error) {
    // No role, or a stored template that no longer compiles: the person reads why.
    if (!(error instanceof UserFacingError)) throw error;
    await answer(error.message);
  }
}
