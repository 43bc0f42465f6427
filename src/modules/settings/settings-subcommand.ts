import type { Subcommand } from '../../slack/subcommand.ts';
import { requireRole } from '../roles/roles.ts';
import { emailSender } from '../templates/email-sender.ts';
import { getWorkspaceSettings } from '../workspaces/settings.ts';
import { buildSettingsModal, SETTINGS_VIEW_ONLY_NOTE, settingsSummaryText } from './build-settings-modal.ts';

/** `/nurture settings`: admins change the workspace's sending settings in a form; anyone with a role sees them. */
export const settingsSubcommand: Subcommand = {
  name: 'settings',
  summary: 'the workspace’s sending settings: time zone, sender, postal address, frequency cap, approvals (admins change them)',
  usage: [{ form: '/nurture settings', example: '/nurture settings', explains: 'admins get a form to change them; everyone with a role sees them' }],
  async run({ services, teamId, userId, triggerId, client, respond }) {
    const person = await requireRole(services, teamId, userId, ['marketer', 'rep'], 'Looking at the sending settings');
    const settings = await getWorkspaceSettings(services.sql, teamId);
    if (person.roles.includes('admin')) {
      await client.views.open({ trigger_id: triggerId, view: buildSettingsModal(settings) });
      return;
    }
    await respond({
      response_type: 'ephemeral',
      text: `${settingsSummaryText(settings, emailSender(services.config, { senderName: null }).name)}\n_${SETTINGS_VIEW_ONLY_NOTE}_`,
    });
  },
};
