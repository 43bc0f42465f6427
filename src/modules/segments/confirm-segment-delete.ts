import type { BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { UserFacingError } from '../../lib/errors.ts';
import type { Services } from '../../services.ts';
import { requireRole } from '../roles/roles.ts';
import { segmentDeletedText } from './build-segment-messages.ts';
import { findSegmentById } from './queries.ts';
import { removeSegment } from './segments.ts';

export const DELETE_BUTTON_STALE_TEXT = 'That button is no longer valid: the segment is gone. `/nurture segment list` shows the segments there are.';

type DeleteClick = Pick<SlackActionMiddlewareArgs<BlockButtonAction>, 'body' | 'action' | 'respond'>;

/**
 * The click on "Delete this segment". Roles and uses are checked again at the click: either may have
 * changed since the command (removeSegment refuses, naming what depends on the segment).
 */
export async function confirmSegmentDelete(services: Services, { body, action, respond }: DeleteClick): Promise<void> {
  const answer = (text: string) => respond({ response_type: 'ephemeral', replace_original: true, text });
  const teamId = body.team?.id;
  const segmentId = Number(action.value);
  const segment = teamId && Number.isInteger(segmentId) ? await findSegmentById(services.sql, teamId, segmentId) : undefined;
  if (!teamId || !segment) return void (await answer(DELETE_BUTTON_STALE_TEXT));
  try {
    await requireRole(services, teamId, body.user.id, ['marketer'], 'Deleting segments');
    const removed = await removeSegment(services, teamId, body.user.id, segment.name);
    await answer(segmentDeletedText(removed.name));
    services.logger.info({ teamId, userId: body.user.id, segmentId: removed.id }, 'segment deleted');
  } catch (error) {
    if (!(error instanceof UserFacingError)) throw error;
    await answer(error.message);
  }
}
