import type { KnownBlock, ModalView, PlainTextOption } from '@slack/types';
import { ActionIds, CallbackIds } from '../../slack/ids.ts';
import { clip } from '../../slack/mrkdwn.ts';
import { LEAD_STAGES, type AlertChannelSettings } from './alert-channel.ts';

/** The form's blocks; their ids name the setting, so errors land beside it. */
export const AlertChannelBlockIds = {
  threshold: 'alerts_threshold',
  segmentId: 'alerts_segment',
  owner: 'alerts_owner',
  ownerUserIds: 'alerts_owner_users',
  stages: 'alerts_stages',
  quietFrom: 'alerts_quiet_from',
  quietTo: 'alerts_quiet_to',
  quietWeekends: 'alerts_quiet_weekends',
  coolDownDays: 'alerts_cool_down_days',
  remindAfterMinutes: 'alerts_remind_after',
  claimHoldDays: 'alerts_claim_hold_days',
  followUpTemplateId: 'alerts_follow_up_template',
} as const;

export interface AlertFormChoices {
  segments: ReadonlyArray<{ id: number; name: string }>;
  templates: ReadonlyArray<{ id: number; name: string }>;
  defaultThreshold: number;
}

const plain = (text: string) => ({ type: 'plain_text' as const, text, emoji: true });
const option = (text: string, value: string): PlainTextOption => ({ text: plain(clip(text, 75)), value });
/** Slack lists at most 100 options in a static select. */
const MAX_OPTIONS = 100;

const OWNER_OPTIONS = [option('Any lead', 'any'), option('Only leads nobody owns yet', 'unowned'), option('Only leads owned by the people below', 'listed')];

function input(blockId: string, label: string, element: object, options: { optional?: boolean; hint?: string } = {}): KnownBlock {
  return {
    type: 'input',
    block_id: blockId,
    label: plain(label),
    optional: options.optional ?? false,
    ...(options.hint ? { hint: plain(options.hint) } : {}),
    element: { action_id: ActionIds.alertChannelInput, ...element },
  } as KnownBlock;
}

const numberInput = (value: number | null, min: number, max: number) => ({
  type: 'number_input',
  is_decimal_allowed: false,
  min_value: String(min),
  max_value: String(max),
  ...(value === null ? {} : { initial_value: String(value) }),
});

/** `/nurture alerts` in a channel: how that channel takes hot-lead alerts. private_metadata: the channel id. */
export function buildAlertChannelModal(channelId: string, settings: AlertChannelSettings, choices: AlertFormChoices): ModalView {
  const segmentOptions = choices.segments.slice(0, MAX_OPTIONS).map((segment) => option(segment.name, String(segment.id)));
  const templateOptions = choices.templates.slice(0, MAX_OPTIONS).map((template) => option(template.name, String(template.id)));
  const selected = (options: PlainTextOption[], value: number | null) => options.find((candidate) => candidate.value === String(value));
  const initialSegment = selected(segmentOptions, settings.segmentId);
  const initialTemplate = selected(templateOptions, settings.followUpTemplateId);
  const stageOptions = LEAD_STAGES.map((stage) => option(stage[0]!.toUpperCase() + stage.slice(1), stage));

  const blocks: KnownBlock[] = [
    { type: 'section', text: { type: 'mrkdwn', text: `Hot-lead alerts for <#${channelId}>: a lead whose score crosses the threshold is posted here, once per cool-down, for a rep to claim.` } },
    input(AlertChannelBlockIds.threshold, 'Alert when a score reaches', numberInput(settings.threshold, 1, 10_000), { optional: true, hint: `Empty: the workspace's threshold (${choices.defaultThreshold}, set in /nurture scoring).` }),
    input(AlertChannelBlockIds.owner, 'Whose leads', { type: 'radio_buttons', options: OWNER_OPTIONS, initial_option: OWNER_OPTIONS.find((o) => o.value === settings.owner) }),
    input(AlertChannelBlockIds.ownerUserIds, 'Owners (with "owned by the people below")', { type: 'multi_users_select', max_selected_items: 20, ...(settings.ownerUserIds.length > 0 ? { initial_users: settings.ownerUserIds } : {}) }, { optional: true }),
    input(AlertChannelBlockIds.stages, 'Buying stages', { type: 'checkboxes', options: stageOptions, initial_options: stageOptions.filter((o) => settings.stages.includes(o.value as never)) }),
    input(AlertChannelBlockIds.quietFrom, 'Quiet hours from', { type: 'timepicker', ...(settings.quietHours ? { initial_time: settings.quietHours.from } : {}) }, { optional: true, hint: "In the workspace's time zone. Alerts raised then wait until quiet hours end." }),
    input(AlertChannelBlockIds.quietTo, 'Quiet hours until', { type: 'timepicker', ...(settings.quietHours ? { initial_time: settings.quietHours.to } : {}) }, { optional: true }),
    input(
      AlertChannelBlockIds.quietWeekends,
      'Weekends',
      { type: 'checkboxes', options: [option('Quiet on Saturdays and Sundays', 'yes')], ...(settings.quietWeekends ? { initial_options: [option('Quiet on Saturdays and Sundays', 'yes')] } : {}) },
      { optional: true },
    ),
    input(AlertChannelBlockIds.coolDownDays, 'Cool-down in days: a lead is alerted at most once in this time, in any channel', numberInput(settings.coolDownDays, 1, 30)),
    input(AlertChannelBlockIds.remindAfterMinutes, 'Remind in the thread when nobody claims within (minutes)', numberInput(settings.remindAfterMinutes, 5, 1440), { optional: true, hint: 'Empty: no reminder.' }),
    input(AlertChannelBlockIds.claimHoldDays, "Claiming pauses the lead's nurture emails for (days)", numberInput(settings.claimHoldDays, 1, 90)),
  ];
  if (segmentOptions.length > 0) {
    const segmentBlock = input(
      AlertChannelBlockIds.segmentId,
      'Only leads in this segment',
      { type: 'static_select', placeholder: plain('Any lead'), options: segmentOptions, ...(initialSegment ? { initial_option: initialSegment } : {}) },
      { optional: true, hint: 'Empty: any lead.' },
    );
    blocks.splice(2, 0, segmentBlock);
  }
  if (templateOptions.length > 0) {
    blocks.push(
      input(
        AlertChannelBlockIds.followUpTemplateId,
        'Email 1:1 starts from this template',
        { type: 'static_select', placeholder: plain('A short built-in follow-up'), options: templateOptions, ...(initialTemplate ? { initial_option: initialTemplate } : {}) },
        { optional: true },
      ),
    );
  }
  return {
    type: 'modal',
    callback_id: CallbackIds.alertChannelModal,
    private_metadata: channelId,
    title: plain('Hot-lead alerts'),
    submit: plain('Save'),
    close: plain('Cancel'),
    blocks,
  };
}
