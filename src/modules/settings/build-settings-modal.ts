import type { KnownBlock, ModalView } from '@slack/types';
import { ActionIds, CallbackIds } from '../../slack/ids.ts';
import { escapeMrkdwn } from '../../slack/mrkdwn.ts';
import type { WorkspaceSettings } from '../workspaces/settings.ts';

export const SettingsBlockIds = {
  timeZone: 'settings_time_zone',
  senderName: 'settings_sender_name',
  postalAddress: 'settings_postal_address',
  capPerDay: 'settings_cap_per_day',
  capPerWeek: 'settings_cap_per_week',
  selfApprovalBelow: 'settings_self_approval',
  sendExpiryMinutes: 'settings_send_expiry',
} as const;

/** The bounds of migrations/0009_delivery.sql, shown in the form and enforced by the submission schema. */
export const SETTING_LIMITS = {
  senderName: { max: 80 },
  postalAddress: { min: 5, max: 300 },
  capPerDay: { min: 1, max: 20 },
  capPerWeek: { min: 1, max: 50 },
  selfApprovalBelow: { min: 1, max: 100_000 },
  sendExpiryMinutes: { min: 5, max: 10_080 },
} as const;

const numberInput = (actionId: string, limits: { min: number; max: number }, initial: number | null) => ({
  type: 'number_input' as const,
  action_id: actionId,
  is_decimal_allowed: false,
  min_value: String(limits.min),
  max_value: String(limits.max),
  ...(initial === null ? {} : { initial_value: String(initial) }),
});

/** `/nurture settings` for admins: every sending setting, filled in with what is set now. */
export function buildSettingsModal(settings: WorkspaceSettings): ModalView {
  const blocks: KnownBlock[] = [
    {
      type: 'input',
      block_id: SettingsBlockIds.timeZone,
      label: { type: 'plain_text', text: 'Time zone' },
      element: { type: 'plain_text_input', action_id: ActionIds.settingsTimeZoneInput, initial_value: settings.timeZone, max_length: 64 },
      hint: { type: 'plain_text', text: 'An IANA name such as Europe/Berlin, America/New_York or Asia/Tokyo. Newsletter times are in this zone.' },
    },
    {
      type: 'input',
      block_id: SettingsBlockIds.senderName,
      optional: true,
      label: { type: 'plain_text', text: 'Sender name' },
      element: {
        type: 'plain_text_input',
        action_id: ActionIds.settingsSenderNameInput,
        max_length: SETTING_LIMITS.senderName.max,
        ...(settings.senderName ? { initial_value: settings.senderName } : {}),
        placeholder: { type: 'plain_text', text: 'e.g. Acme Marketing' },
      },
      hint: { type: 'plain_text', text: 'The From name and the footer of every email. Empty: the name in EMAIL_FROM.' },
    },
    {
      type: 'input',
      block_id: SettingsBlockIds.postalAddress,
      optional: true,
      label: { type: 'plain_text', text: 'Postal address' },
      element: {
        type: 'plain_text_input',
        action_id: ActionIds.settingsPostalAddressInput,
        multiline: true,
        max_length: SETTING_LIMITS.postalAddress.max,
        ...(settings.postalAddress ? { initial_value: settings.postalAddress } : {}),
      },
      hint: { type: 'plain_text', text: 'Printed in the footer of every marketing email, as anti-spam law in the US and Japan requires. No marketing email goes out without it.' },
    },
    {
      type: 'input',
      block_id: SettingsBlockIds.capPerDay,
      label: { type: 'plain_text', text: 'Marketing emails per person per day, at most' },
      element: numberInput(ActionIds.settingsCapPerDayInput, SETTING_LIMITS.capPerDay, settings.capPerDay),
    },
    {
      type: 'input',
      block_id: SettingsBlockIds.capPerWeek,
      label: { type: 'plain_text', text: 'Marketing emails per person per 7 days, at most' },
      element: numberInput(ActionIds.settingsCapPerWeekInput, SETTING_LIMITS.capPerWeek, settings.capPerWeek),
      hint: { type: 'plain_text', text: 'Newsletters skip people over either cap; sequences wait until they are under it.' },
    },
    {
      type: 'input',
      block_id: SettingsBlockIds.selfApprovalBelow,
      optional: true,
      label: { type: 'plain_text', text: 'Requesters may approve their own newsletter below this many recipients' },
      element: numberInput(ActionIds.settingsSelfApprovalInput, SETTING_LIMITS.selfApprovalBelow, settings.selfApprovalBelow),
      hint: { type: 'plain_text', text: 'Empty: a second person always approves.' },
    },
    {
      type: 'input',
      block_id: SettingsBlockIds.sendExpiryMinutes,
      label: { type: 'plain_text', text: 'Minutes an approved newsletter may start late' },
      element: numberInput(ActionIds.settingsSendExpiryInput, SETTING_LIMITS.sendExpiryMinutes, settings.sendExpiryMinutes),
      hint: { type: 'plain_text', text: 'Later than this after its time, it expires instead of going out late.' },
    },
  ];
  return {
    type: 'modal',
    callback_id: CallbackIds.settingsModal,
    title: { type: 'plain_text', text: 'Sending settings' },
    submit: { type: 'plain_text', text: 'Save' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks,
  };
}

/** The settings in words: shown to people who may only look, and after saving. */
/** `defaultSenderName`: who emails are from while the workspace sets no sender name. */
export function settingsSummaryText(settings: WorkspaceSettings, defaultSenderName: string): string {
  return [
    `*Time zone:* ${escapeMrkdwn(settings.timeZone)}`,
    `*Sender name:* ${settings.senderName ? escapeMrkdwn(settings.senderName) : `${escapeMrkdwn(defaultSenderName)} _(the default)_`}`,
    `*Postal address:* ${settings.postalAddress ? escapeMrkdwn(settings.postalAddress).replace(/\n/g, ', ') : ':warning: _not set: no marketing email can go out until an admin sets it_'}`,
    `*Frequency cap:* at most ${settings.capPerDay} marketing email${settings.capPerDay === 1 ? '' : 's'} per person per day and ${settings.capPerWeek} per 7 days`,
    `*Approval:* ${settings.selfApprovalBelow === null ? 'a second person always approves a newsletter' : `requesters may approve their own newsletter below ${settings.selfApprovalBelow.toLocaleString('en-US')} recipients`}`,
    `*Late sends:* an approved newsletter not started ${settings.sendExpiryMinutes} minutes after its time expires`,
  ].join('\n');
}

export const SETTINGS_VIEW_ONLY_NOTE = 'Only admins change these, with `/nurture settings`.';

/** What the modal turns into once saved. */
export function buildSettingsSavedModal(settings: WorkspaceSettings, defaultSenderName: string): ModalView {
  return {
    type: 'modal',
    title: { type: 'plain_text', text: 'Sending settings' },
    close: { type: 'plain_text', text: 'Close' },
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: ':white_check_mark: Saved. The workspace now sends with these settings:' } },
      { type: 'section', text: { type: 'mrkdwn', text: settingsSummaryText(settings, defaultSenderName) } },
    ],
  };
}
