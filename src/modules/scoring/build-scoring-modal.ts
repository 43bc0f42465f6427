import type { KnownBlock, ModalView } from '@slack/types';
import { ActionIds, CallbackIds } from '../../slack/ids.ts';
import { clip, escapeMrkdwn, SECTION_MAX_CHARS } from '../../slack/mrkdwn.ts';
import type { ScoringModel } from './scoring-model.ts';

/** The form's blocks, one per field of the model (their ids name the field, so errors land beside it). */
export const ScoringBlockIds = {
  halfLifeDays: 'scoring_half_life_days',
  alertThreshold: 'scoring_alert_threshold',
  openPoints: 'scoring_open_points',
  clickPoints: 'scoring_click_points',
  pageViewPoints: 'scoring_page_view_points',
  keyPages: 'scoring_key_pages',
  longReadSeconds: 'scoring_long_read_seconds',
  longReadPoints: 'scoring_long_read_points',
  comparisonPages: 'scoring_comparison_pages',
  comparisonMinutes: 'scoring_comparison_minutes',
  comparisonPatterns: 'scoring_comparison_patterns',
  comparisonPoints: 'scoring_comparison_points',
  returnVisitDays: 'scoring_return_visit_days',
  returnVisitPoints: 'scoring_return_visit_points',
  customEvents: 'scoring_custom_events',
} as const satisfies Record<keyof ScoringModel, string>;

export type NumberField = Exclude<keyof ScoringModel, 'keyPages' | 'comparisonPatterns' | 'customEvents'>;

const NUMBER_LABELS: Record<NumberField, string> = {
  halfLifeDays: 'Half-life in days: points halve after this long without activity',
  alertThreshold: 'Hot-lead alert at this score',
  openPoints: 'Points for an email opened by a person',
  clickPoints: 'Points for a click in an email',
  pageViewPoints: 'Points for a page view',
  longReadSeconds: 'A long read: at least this many seconds on a page',
  longReadPoints: 'Points for a long read',
  comparisonPages: 'Comparison: this many different product or pricing pages…',
  comparisonMinutes: '…within this many minutes',
  comparisonPoints: 'Points for comparison browsing',
  returnVisitDays: 'Return visit: a new visit within this many days of an email click',
  returnVisitPoints: 'Points for a return visit',
};

/** Lines of "<page> <points>" and "<event> <points>": how the lists are written in the form. */
export const keyPagesText = (model: ScoringModel) => model.keyPages.map((page) => `${page.pattern} ${page.points}`).join('\n');
export const customEventsText = (model: ScoringModel) =>
  Object.entries(model.customEvents)
    .map(([name, points]) => `${name} ${points}`)
    .join('\n');

function numberBlock(field: NumberField, value: number): KnownBlock {
  return {
    type: 'input',
    block_id: ScoringBlockIds[field],
    label: { type: 'plain_text', text: NUMBER_LABELS[field] },
    element: { type: 'number_input', action_id: ActionIds.scoringModelInput, is_decimal_allowed: field === 'halfLifeDays', initial_value: String(value) },
  };
}

function textBlock(blockId: string, label: string, value: string, hint: string, optional: boolean): KnownBlock {
  return {
    type: 'input',
    block_id: blockId,
    optional,
    label: { type: 'plain_text', text: label },
    element: { type: 'plain_text_input', action_id: ActionIds.scoringModelInput, multiline: true, max_length: 2000, ...(value ? { initial_value: value } : {}) },
    hint: { type: 'plain_text', text: hint },
  };
}

/** `/nurture scoring` for admins: every weight, filled in with the workspace's model. */
export function buildScoringModal(model: ScoringModel): ModalView {
  const blocks: KnownBlock[] = [
    { type: 'section', text: { type: 'mrkdwn', text: 'What each thing a lead does is worth. Only people count: machine opens and clicks (privacy proxies, link scanners, bots) never score.' } },
    numberBlock('alertThreshold', model.alertThreshold),
    numberBlock('halfLifeDays', model.halfLifeDays),
    numberBlock('openPoints', model.openPoints),
    numberBlock('clickPoints', model.clickPoints),
    numberBlock('pageViewPoints', model.pageViewPoints),
    textBlock(ScoringBlockIds.keyPages, 'Key pages and their points (instead of a page view)', keyPagesText(model), 'One per line: a page and its points, e.g. "/pricing 10". /pricing also counts /pricing/teams; * matches anything.', true),
    numberBlock('longReadSeconds', model.longReadSeconds),
    numberBlock('longReadPoints', model.longReadPoints),
    numberBlock('comparisonPages', model.comparisonPages),
    numberBlock('comparisonMinutes', model.comparisonMinutes),
    textBlock(ScoringBlockIds.comparisonPatterns, 'Product and pricing pages (for comparison browsing)', model.comparisonPatterns.join('\n'), 'One page pattern per line, e.g. /products/*', false),
    numberBlock('comparisonPoints', model.comparisonPoints),
    numberBlock('returnVisitDays', model.returnVisitDays),
    numberBlock('returnVisitPoints', model.returnVisitPoints),
    textBlock(ScoringBlockIds.customEvents, 'Custom events and their points', customEventsText(model), 'One per line: an event name from the events API and its points, e.g. "demo_requested 40".', true),
  ];
  return {
    type: 'modal',
    callback_id: CallbackIds.scoringModal,
    title: { type: 'plain_text', text: 'Lead scoring' },
    submit: { type: 'plain_text', text: 'Save' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks,
  };
}

const list = (items: readonly string[]) => (items.length > 0 ? items.map(escapeMrkdwn).join(', ') : '_none_');
const seconds = (value: number) => (value % 60 === 0 ? `${value / 60} minute${value === 60 ? '' : 's'}` : `${value} seconds`);

/** The model in words: shown to people who may only look, and after saving. */
export function describeScoringModel(model: ScoringModel): string {
  return [
    `*Alerts:* a hot-lead alert when a score reaches ${model.alertThreshold}`,
    `*Decay:* points halve every ${model.halfLifeDays} day${model.halfLifeDays === 1 ? '' : 's'} without activity`,
    `*Email:* ${model.openPoints} for an open, ${model.clickPoints} for a click`,
    `*Website:* ${model.pageViewPoints} for a page view; key pages instead: ${list(model.keyPages.map((page) => `${page.pattern} ${page.points}`))}`,
    `*Long read:* ${model.longReadPoints} for ${seconds(model.longReadSeconds)} or more on a page`,
    `*Comparison:* ${model.comparisonPoints} for ${model.comparisonPages} different product or pricing pages (${list(model.comparisonPatterns)}) within ${model.comparisonMinutes} minutes`,
    `*Return visit:* ${model.returnVisitPoints} for coming back within ${model.returnVisitDays} day${model.returnVisitDays === 1 ? '' : 's'} of clicking an email`,
    `*Custom events:* ${list(Object.entries(model.customEvents).map(([name, points]) => `${name} ${points}`))}`,
    '_Only people count: machine opens and clicks never score._',
  ].join('\n');
}

export const SCORING_VIEW_ONLY_NOTE = 'Only admins change the model, with `/nurture scoring`.';

/** What the form turns into once saved. */
export function buildScoringSavedModal(model: ScoringModel): ModalView {
  return {
    type: 'modal',
    title: { type: 'plain_text', text: 'Lead scoring' },
    close: { type: 'plain_text', text: 'Close' },
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: ':white_check_mark: Saved. New activity scores with this model:' } },
      { type: 'section', text: { type: 'mrkdwn', text: clip(describeScoringModel(model), SECTION_MAX_CHARS) } },
    ],
  };
}
