import type { WebClient } from '@slack/web-api';
import type { Services } from '../../services.ts';
import { MAX_CONDITIONS } from './rule.ts';
import {
  conditionFromEditor,
  decodeDraft,
  fieldOf,
  fitsInMetadata,
  operatorsOf,
  ruleOf,
  type BuilderDraft,
  type EditorReadings,
} from './builder-draft.ts';
import { buildSegmentModal, currentPreviewBlocks, type PreviewState, type SegmentDetails } from './build-segment-modal.ts';
import { isStatementTimeout } from './measure-segment.ts';
import { readDetails, readEditor, type StateValues } from './read-builder-state.ts';
import { previewAudience } from './segments.ts';

export type BuilderChange =
  | { kind: 'field'; field: string }
  | { kind: 'attribute'; name: string }
  | { kind: 'operator'; op: string }
  | { kind: 'add' }
  | { kind: 'remove'; index: number }
  | { kind: 'suppressed' };

export const tooManyConditionsText = (count: number) =>
  `This form holds ${count} conditions of this size, and this one does not fit. Save the segment as it is, or write the whole rule in one go with \`/nurture segment new "Name" <rule>\`.`;
export const conditionLimitText = `A segment has at most ${MAX_CONDITIONS} conditions.`;

export interface ChangeOutcome {
  draft: BuilderDraft;
  /** Who matches may have changed: the preview must be counted again. */
  audienceChanged: boolean;
  editorError?: string;
}

/** The draft after one interaction. Pure: every decision about the builder's state is made here. */
export function applyBuilderChange(draft: BuilderDraft, change: BuilderChange, readings: EditorReadings): ChangeOutcome {
  const fresh = (editor: BuilderDraft['editor']): ChangeOutcome => ({ draft: { ...draft, editor, generation: draft.generation + 1 }, audienceChanged: false });
  switch (change.kind) {
    case 'field': {
      const field = fieldOf(change.field)?.key;
      if (!field) return { draft, audienceChanged: false };
      // The first operator is the common one ("is", "in the last … days", "did it"): the value input shows at once.
      return fresh(field === 'attribute' ? { field } : { field, op: operatorsOf(field)[0] });
    }
    case 'attribute': {
      const name = change.name.trim().slice(0, 64);
      if (draft.editor.field !== 'attribute' || name === '') return { draft, audienceChanged: false };
      return fresh({ field: 'attribute', attribute: name, op: 'equals' });
    }
    case 'operator':
      if (!draft.editor.field || !operatorsOf(draft.editor.field).includes(change.op)) return { draft, audienceChanged: false };
      return fresh({ ...draft.editor, op: change.op });
    case 'add': {
      const built = conditionFromEditor(draft.editor, readings);
      if (!built.ok) return { draft, audienceChanged: false, editorError: built.message };
      if (draft.conditions.length >= MAX_CONDITIONS) return { draft, audienceChanged: false, editorError: conditionLimitText };
      const next: BuilderDraft = { ...draft, conditions: [...draft.conditions, built.condition], editor: {}, generation: draft.generation + 1 };
      if (!fitsInMetadata(next)) return { draft, audienceChanged: false, editorError: tooManyConditionsText(draft.conditions.length) };
      return { draft: next, audienceChanged: true };
    }
    case 'remove':
      if (!Number.isInteger(change.index) || change.index < 0 || change.index >= draft.conditions.length) return { draft, audienceChanged: false };
      return { draft: { ...draft, conditions: draft.conditions.filter((_, index) => index !== change.index) }, audienceChanged: true };
    case 'suppressed':
      return { draft, audienceChanged: true };
  }
}

export interface BuilderView {
  id: string;
  hash: string;
  private_metadata: string;
  blocks?: readonly unknown[];
  state?: { values: StateValues };
}

/**
 * One interaction with the open builder (the listener has acked already). The person's change is
 * shown at once with the view's hash: if the view changed meanwhile, this interaction came from an
 * outdated screen and is dropped. When the audience may have changed, the preview is counted after.
 */
export async function changeSegmentBuilder(services: Services, client: WebClient, teamId: string, view: BuilderView, change: BuilderChange): Promise<void> {
  const log = services.logger.child({ teamId, viewId: view.id, change: change.kind });
  const draft = decodeDraft(view.private_metadata);
  const details = readDetails(view.state?.values);
  const outcome = applyBuilderChange(draft, change, readEditor(view.state?.values, draft.generation));
  const kept = currentPreviewBlocks(view.blocks);
  const preview: PreviewState = outcome.audienceChanged || !kept ? { kind: 'counting' } : { kind: 'kept', blocks: kept };
  let hash: string | undefined;
  try {
    const updated = await client.views.update({ view_id: view.id, hash: view.hash, view: buildSegmentModal(outcome.draft, { details, preview, editorError: outcome.editorError }) });
    hash = updated.view?.hash;
  } catch (error) {
    if (!isHashConflict(error)) throw error;
    log.info('segment builder changed meanwhile; this interaction came from an outdated view and was dropped');
    return;
  }
  if (preview.kind === 'counting' && hash) await refreshBuilderPreview(services, client, { teamId, viewId: view.id, hash, draft: outcome.draft, details });
}

/**
 * Counts the draft's audience (under the preview's statement timeout) and shows it. Passes the hash
 * of the view it counted for: when the person changed something meanwhile, Slack refuses the update
 * and this stale preview is dropped (their change brings its own).
 */
export async function refreshBuilderPreview(
  services: Services,
  client: WebClient,
  target: { teamId: string; viewId: string; hash: string; draft: BuilderDraft; details: SegmentDetails },
): Promise<void> {
  const purpose = target.details.includeSuppressed ? 'reporting' : 'sending';
  let preview: PreviewState;
  try {
    const result = await previewAudience(services, target.teamId, ruleOf(target.draft.conditions), { purpose });
    preview = { kind: 'ready', count: result.count, sample: result.sample, purpose };
  } catch (error) {
    if (!isStatementTimeout(error)) throw error;
    preview = { kind: 'too_slow' };
  }
  try {
    await client.views.update({ view_id: target.viewId, hash: target.hash, view: buildSegmentModal(target.draft, { details: target.details, preview }) });
  } catch (error) {
    if (!isHashConflict(error)) throw error;
    services.logger.debug({ teamId: target.teamId, viewId: target.viewId }, 'stale segment preview dropped');
  }
}

const isHashConflict = (error: unknown) => (error as { data?: { error?: string } } | null)?.data?.error === 'hash_conflict';
