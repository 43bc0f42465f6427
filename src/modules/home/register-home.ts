import type { App } from '@slack/bolt';
import type { Services } from '../../services.ts';
import { ActionIds, CallbackIds, SlackEvents } from '../../slack/ids.ts';
import type { Subcommand } from '../../slack/subcommand.ts';
import { buildHelpBlocks } from '../help/build-help.ts';
import { buildRolesBlocks } from '../roles/build-roles-blocks.ts';
import { listRoleHolders } from '../roles/queries.ts';
import { touchWorkspace } from '../workspaces/queries.ts';
import { buildInfoModal } from './build-home-view.ts';
import { publishHomeQueue } from './publish-home-queue.ts';

export function registerHome(app: App, services: Services, subcommands: readonly Subcommand[]) {
  app.event(SlackEvents.appHomeOpened, async ({ event, body }) => {
    if (event.tab !== 'home') return;
    await touchWorkspace(services.sql, body.team_id);
    await services.enqueue(publishHomeQueue, { teamId: body.team_id, userId: event.user });
  });

  app.action(ActionIds.homeShowHelp, async ({ ack, body, client }) => {
    await ack();
    if (!('trigger_id' in body)) return;
    // trigger_id expires ~3 s after the click: open the modal before anything slow.
    await client.views.open({ trigger_id: body.trigger_id, view: buildInfoModal(CallbackIds.helpModal, 'Nurture commands', buildHelpBlocks(subcommands)) });
  });

  app.action(ActionIds.homeShowRoles, async ({ ack, body, client }) => {
    await ack();
    if (!('trigger_id' in body) || !body.team?.id) return;
    const holders = await listRoleHolders(services.sql, body.team.id);
    await client.views.open({ trigger_id: body.trigger_id, view: buildInfoModal(CallbackIds.rolesModal, 'Roles', buildRolesBlocks(holders)) });
  });
}
