import type { BlockButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { z } from 'zod';
import { UserFacingError } from '../../lib/errors.ts';
import type { Services } from '../../services.ts';
import { requireRole } from '../roles/roles.ts';
import { activatedText, activationRefusedText, archivedText, refusedText } from './build-sequence-messages.ts';
import { checkSequenceActivation } from './check-sequence-activation.ts';
import { activeRunCounts, findSequence } from './queries.ts';
import { SEQUENCE_GONE_TEXT } from './sequence-definitions.ts';
import { activateSequence, archiveSequence } from './sequence-lifecycle.ts';
import type { Sequence } from './sequence.ts';

type ButtonClick = Pick<SlackActionMiddlewareArgs<BlockButtonAction>, 'body' | 'action' | 'respond'>;

const SequenceIdSchema = z.string().regex(/^\d{1,15}$/).transform(Number);

/**
 * A button under an answer to `activate` or `archive`. Roles and the sequence are checked again at the
 * click (either may have changed since the command); the answer replaces the question.
 */
async function onConfirm(services: Services, { body, action, respond }: ButtonClick, what: string, act: (sequence: Sequence, teamId: string, userId: string) => Promise<string>): Promise<void> {
  const answer = (text: string) => respond({ response_type: 'ephemeral', replace_original: true, text });
  const teamId = body.team?.id;
  const sequenceId = SequenceIdSchema.safeParse(action.value);
  const sequence = teamId && sequenceId.success ? await findSequence(services.sql, teamId, sequenceId.data) : undefined;
  if (!teamId || !sequence) return void (await answer(SEQUENCE_GONE_TEXT));
  try {
    await requireRole(services, teamId, body.user.id, ['marketer'], what);
    await answer(await act(sequence, teamId, body.user.id));
  } catch (error) {
    if (!(error instanceof UserFacingError)) throw error;
    await answer(error.message);
  }
}

/** "Activate anyway" / "Activate, enroll today's members" / "…new members only": refusals are checked again first. */
export function confirmActivation(services: Services, click: ButtonClick, enrollCurrentMembers: boolean): Promise<void> {
  return onConfirm(services, click, 'Activating sequences', async (sequence, teamId, userId) => {
    const { refusals } = await checkSequenceActivation(services, teamId, sequence);
    if (refusals.length > 0) return activationRefusedText(sequence.name, refusals);
    const result = await activateSequence(services, { teamId, sequenceId: sequence.id, userId, enrollCurrentMembers });
    if (!result.ok) return refusedText(result.reason);
    services.logger.info({ teamId, userId, sequenceId: sequence.id, enrolled: result.enrolled }, 'sequence activated');
    return activatedText(sequence.name, result.enrolled, sequence.trigger);
  });
}

/** "Archive it": everyone's run ends. */
export function confirmArchive(services: Services, click: ButtonClick): Promise<void> {
  return onConfirm(services, click, 'Archiving sequences', async (sequence, teamId, userId) => {
    const inIt = (await activeRunCounts(services.sql, teamId, [sequence.id])).get(sequence.id) ?? 0;
    const result = await archiveSequence(services, { teamId, sequenceId: sequence.id, userId });
    if (!result.ok) return refusedText(result.reason);
    services.logger.info({ teamId, userId, sequenceId: sequence.id, ended: inIt }, 'sequence archived');
    return archivedText(sequence.name, inIt);
  });
}
