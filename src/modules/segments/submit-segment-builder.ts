import type { SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import { UserFacingError } from '../../lib/errors.ts';
import type { Services } from '../../services.ts';
import { requireRole } from '../roles/roles.ts';
import { conditionFromEditor, decodeDraft, editorReady, ruleOf } from './builder-draft.ts';
import { segmentBuiltText } from './build-segment-messages.ts';
import { SegmentBlockIds } from './build-segment-modal.ts';
import { measureSegment } from './measure-segment.ts';
import { readDetails, readEditor } from './read-builder-state.ts';
import { changeSegment, createSegment, PREVIEW_TIMEOUT_MS, SegmentDraftSchema } from './segments.ts';

type ViewSubmission = Pick<SlackViewMiddlewareArgs<ViewSubmitAction>, 'ack' | 'body' | 'view'>;

/** Slack shows these under the named input block; they must fit in its error bubble. */
const sentence = (text: string) => {
  const trimmed = text.trim().replace(/\.$/, '');
  return `${trimmed.charAt(0).toUpperCase()}${trimmed.slice(1)}.`;
};

/**
 * The builder's Save: validates (errors go back beside the fields), creates or changes the segment,
 * closes the modal, then counts it and tells the person its size by DM. A condition filled in but
 * not added yet is added, as the person most likely meant.
 */
export async function submitSegmentBuilder(services: Services, { ack, body, view }: ViewSubmission): Promise<void> {
  const teamId = body.team?.id ?? view.team_id;
  const userId = body.user.id;
  const draft = decodeDraft(view.private_metadata);
  const values = view.state.values as Parameters<typeof readDetails>[0];
  const details = readDetails(values);

  const conditions = [...draft.conditions];
  const pending = readEditor(values, draft.generation);
  if (editorReady(draft.editor) && Object.keys(pending).length > 0) {
    const built = conditionFromEditor(draft.editor, pending);
    if (!built.ok) {
      await ack({ response_action: 'errors', errors: { [SegmentBlockIds.value(built.slot, draft.generation)]: `${built.message} Or clear it to save without this condition.` } });
      return;
    }
    conditions.push(built.condition);
  }

  const parsed = SegmentDraftSchema.safeParse({ name: details.name ?? '', description: details.description, rule: ruleOf(conditions), includeSuppressed: details.includeSuppressed });
  if (!parsed.success) {
    const errors: Record<string, string> = {};
    for (const issue of parsed.error.issues) {
      const blockId = issue.path[0] === 'description' ? SegmentBlockIds.description : SegmentBlockIds.name;
      errors[blockId] ??= sentence(issue.message);
    }
    await ack({ response_action: 'errors', errors });
    return;
  }

  let saved;
  try {
    await requireRole(services, teamId, userId, ['marketer'], 'Building segments');
    saved = draft.segmentId === undefined
      ? await createSegment(services, teamId, userId, parsed.data)
      : await changeSegment(services, teamId, userId, draft.segmentId, parsed.data);
  } catch (error) {
    if (!(error instanceof UserFacingError)) throw error;
    await ack({ response_action: 'errors', errors: { [SegmentBlockIds.name]: error.message } });
    return;
  }
  await ack();
  services.logger.info({ teamId, userId, segmentId: saved.id, created: draft.segmentId === undefined }, 'segment saved from the builder');

  const size = await measureSegment(services, saved, PREVIEW_TIMEOUT_MS);
  await services.slack.chat.postMessage({ channel: userId, text: segmentBuiltText(saved, draft.segmentId === undefined, size) });
}
