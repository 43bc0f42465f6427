import type { PlainTextOption } from '@slack/types';
import type { Services } from '../../services.ts';
import { ActionIds } from '../../slack/ids.ts';
import { decodeDraft, isSuggestedField } from './builder-draft.ts';
import { isStatementTimeout } from './measure-segment.ts';
import { suggestAttributeNames, suggestAttributeValues, suggestEventNames, suggestLeadValues, suggestVisitedPaths } from './queries.ts';

/** Slack shows at most 100 options; text is at most 75 characters, a value at most 150. */
export const MAX_OPTIONS = 100;
/** Options must be answered within Slack's 3 s, ack included. */
export const SUGGEST_TIMEOUT_MS = 1500;

export interface SuggestRequest {
  teamId: string;
  actionId: string;
  /** What the person typed so far. */
  typed: string;
  /** The builder's private_metadata: which field or attribute the value list is for. */
  metadata: string | undefined;
}

/**
 * The options for one of the builder's type-ahead menus. What the person typed is offered first when
 * it is not in the data yet (a page pattern such as /products/*, an industry no lead has so far),
 * so the menus never stop anyone from writing the rule they mean.
 */
export async function suggestSegmentValues(services: Services, request: SuggestRequest): Promise<PlainTextOption[]> {
  const typed = request.typed.trim().slice(0, 150);
  let found: string[] = [];
  try {
    found = await services.sql.begin(async (tx) => {
      await tx`SELECT set_config('statement_timeout', ${String(SUGGEST_TIMEOUT_MS)}, true)`;
      switch (request.actionId) {
        case ActionIds.segmentAttribute:
          return suggestAttributeNames(tx, request.teamId, typed, MAX_OPTIONS);
        case ActionIds.segmentEventOptions:
          return suggestEventNames(tx, request.teamId, typed, MAX_OPTIONS);
        case ActionIds.segmentPageOptions:
          return suggestVisitedPaths(tx, request.teamId, typed, MAX_OPTIONS);
        default: {
          const { editor } = decodeDraft(request.metadata ?? '');
          if (editor.field === 'attribute' && editor.attribute) return suggestAttributeValues(tx, request.teamId, editor.attribute, typed, MAX_OPTIONS);
          if (isSuggestedField(editor.field)) return suggestLeadValues(tx, request.teamId, editor.field, typed, MAX_OPTIONS);
          return [];
        }
      }
    });
  } catch (error) {
    // Too slow on a huge workspace: offer what was typed rather than nothing.
    if (!isStatementTimeout(error)) throw error;
    services.logger.warn({ teamId: request.teamId, actionId: request.actionId }, 'segment value suggestions timed out');
  }
  const offerTyped = typed !== '' && (request.actionId !== ActionIds.segmentPageOptions || typed.startsWith('/'));
  const values = offerTyped && !found.some((value) => value.toLowerCase() === typed.toLowerCase()) ? [typed, ...found] : found;
  return values.slice(0, MAX_OPTIONS).map((value) => ({ text: { type: 'plain_text', text: value.length > 75 ? `${value.slice(0, 74)}…` : value }, value }));
}
