import type { App, BlockButtonAction } from '@slack/bolt';
import { UserFacingError } from '../../lib/errors.ts';
import type { Services } from '../../services.ts';
import { ActionIds } from '../../slack/ids.ts';
import { requireRole } from '../roles/roles.ts';
import { forgetLead } from './forget-lead.ts';
import { EmailSchema } from './lead-input.ts';

export function registerLeads(app: App, services: Services) {
  app.action<BlockButtonAction>(ActionIds.leadForgetConfirm, async ({ ack, body, action, respond }) => {
    await ack();
    const teamId = body.team?.id;
    const email = EmailSchema.safeParse(action.value);
    if (!teamId || !email.success) {
      await respond({ response_type: 'ephemeral', replace_original: true, text: 'That button is no longer valid. Run `/nurture forget <email>` again.' });
      return;
    }
    try {
      // Check again at the click: roles may have changed since the command.
      await requireRole(services, teamId, body.user.id, ['admin'], 'Erasing a person');
    } catch (error) {
      if (!(error instanceof UserFacingError)) throw error;
      await respond({ response_type: 'ephemeral', replace_original: true, text: error.message });
      return;
    }
    const { hadLead } = await forgetLead({ sql: services.sql, trackingSecret: services.config.trackingSecret }, teamId, email.data, body.user.id);
    await respond({
      response_type: 'ephemeral',
      replace_original: true,
      text: hadLead
        ? `${email.data} is erased: the lead and all its activity are gone, and the address will be refused from now on.`
        : `There was no lead with ${email.data}; the address is now blocked, so it will be refused if anyone tries to add it.`,
    });
  });
}
