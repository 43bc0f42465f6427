/** Every Slack action_id and callback_id in one place: <feature>_<element>. */
export const ActionIds = {
  homeShowHelp: 'home_show_help',
  homeShowRoles: 'home_show_roles',
  importFileInput: 'import_file_input',
  importSourceInput: 'import_source_input',
  importConsentInput: 'import_consent_input',
  leadForgetConfirm: 'lead_forget_confirm',
  segmentNameInput: 'segment_name_input',
  segmentDescriptionInput: 'segment_description_input',
  segmentSuppressedInput: 'segment_suppressed_input',
  segmentField: 'segment_field',
  segmentAttribute: 'segment_attribute',
  segmentOperator: 'segment_operator',
  /** The condition's value when typed, picked from a fixed list, a date, a number or a person. */
  segmentValueInput: 'segment_value_input',
  /** Type-ahead (external_select) value lists: lead field or attribute values, event names, visited pages. */
  segmentValueOptions: 'segment_value_options',
  segmentEventOptions: 'segment_event_options',
  segmentPageOptions: 'segment_page_options',
  segmentCountInput: 'segment_count_input',
  segmentDaysInput: 'segment_days_input',
  segmentConditionAdd: 'segment_condition_add',
  segmentConditionRemove: 'segment_condition_remove',
  segmentDeleteConfirm: 'segment_delete_confirm',
  templateNameInput: 'template_name_input',
  templateStageInput: 'template_stage_input',
  templateSubjectInput: 'template_subject_input',
  templatePreheaderInput: 'template_preheader_input',
  templateBodyInput: 'template_body_input',
  /** "Send me a test" under a template preview; its value names the template and the lead (see build-template-messages.ts). */
  templateSendTest: 'template_send_test',
  settingsTimeZoneInput: 'settings_time_zone_input',
  settingsSenderNameInput: 'settings_sender_name_input',
  settingsPostalAddressInput: 'settings_postal_address_input',
  settingsCapPerDayInput: 'settings_cap_per_day_input',
  settingsCapPerWeekInput: 'settings_cap_per_week_input',
  settingsSelfApprovalInput: 'settings_self_approval_input',
  settingsSendExpiryInput: 'settings_send_expiry_input',
  newsletterTemplateInput: 'newsletter_template_input',
  newsletterSegmentInput: 'newsletter_segment_input',
  newsletterWhenInput: 'newsletter_when_input',
  newsletterDateInput: 'newsletter_date_input',
  newsletterTimeInput: 'newsletter_time_input',
  /** The send plan card's buttons; each carries the newsletter id as its value. */
  newsletterSendTest: 'newsletter_send_test',
  newsletterApprove: 'newsletter_approve',
  newsletterReject: 'newsletter_reject',
  newsletterCancel: 'newsletter_cancel',
  newsletterResume: 'newsletter_resume',
  /** The sequence details form (name, goal, trigger, send window, sender, re-enrollment). */
  sequenceNameInput: 'sequence_name_input',
  sequenceGoalInput: 'sequence_goal_input',
  sequenceGoalEventInput: 'sequence_goal_event_input',
  /** Dispatches: the form shows the inputs of the chosen trigger. */
  sequenceTriggerInput: 'sequence_trigger_input',
  sequenceSegmentInput: 'sequence_segment_input',
  sequenceEventNameInput: 'sequence_event_name_input',
  sequenceEventPropertiesInput: 'sequence_event_properties_input',
  sequenceDaysInput: 'sequence_days_input',
  sequenceStartInput: 'sequence_start_input',
  sequenceEndInput: 'sequence_end_input',
  sequenceHolidaysInput: 'sequence_holidays_input',
  sequenceSenderNameInput: 'sequence_sender_name_input',
  sequenceReplyToInput: 'sequence_reply_to_input',
  /** Dispatches: "after N days" shows the days input. */
  sequenceReenrollInput: 'sequence_reenroll_input',
  sequenceReenrollDaysInput: 'sequence_reenroll_days_input',
  /** The step form. */
  sequenceStepTemplateInput: 'sequence_step_template_input',
  sequenceStepDelayInput: 'sequence_step_delay_input',
  sequenceStepUnitInput: 'sequence_step_unit_input',
  sequenceStepFromInput: 'sequence_step_from_input',
  /** Dispatches: the form shows the inputs of the chosen condition. */
  sequenceStepConditionInput: 'sequence_step_condition_input',
  sequenceStepStagesInput: 'sequence_step_stages_input',
  sequenceStepPageInput: 'sequence_step_page_input',
  sequenceStepPageDaysInput: 'sequence_step_page_days_input',
  /** The builder's buttons; step buttons carry the step id as their value. */
  sequenceEditDetails: 'sequence_edit_details',
  sequenceAddStep: 'sequence_add_step',
  sequenceEditStep: 'sequence_edit_step',
  sequenceMoveStepUp: 'sequence_move_step_up',
  sequenceMoveStepDown: 'sequence_move_step_down',
  sequenceRemoveStep: 'sequence_remove_step',
  /** Answers to `/nurture sequence activate|archive`; each carries the sequence id as its value. */
  sequenceActivate: 'sequence_activate',
  /** Activate and enroll the trigger segment's members of today too. */
  sequenceActivateEnrollMembers: 'sequence_activate_enroll_members',
  sequenceArchiveConfirm: 'sequence_archive_confirm',
  /** Every input of the scoring form: one per block, read by block id (build-scoring-modal.ts). */
  scoringModelInput: 'scoring_model_input',
  /** Every input of the alert channel form: one per block, read by block id (build-alert-channel-modal.ts). */
  alertChannelInput: 'alert_channel_input',
  /** Buttons on a hot-lead alert; each carries the alert id as its value. */
  alertClaim: 'alert_claim',
  alertEmail: 'alert_email',
  /** An overflow menu: each option's value is `<alert id>:<minutes>`. */
  alertSnooze: 'alert_snooze',
  alertNotAFit: 'alert_not_a_fit',
  /** Every input of the Email 1:1 form: one per block, read by block id. */
  oneToOneInput: 'one_to_one_input',
} as const;

export const CallbackIds = {
  helpModal: 'help_modal',
  rolesModal: 'roles_modal',
  importModal: 'import_modal',
  segmentBuilder: 'segment_builder',
  templateEditor: 'template_editor',
  settingsModal: 'settings_modal',
  newsletterModal: 'newsletter_modal',
  sequenceDetails: 'sequence_details',
  sequenceBuilder: 'sequence_builder',
  sequenceStep: 'sequence_step',
  scoringModal: 'scoring_modal',
  alertChannelModal: 'alert_channel_modal',
  oneToOneModal: 'one_to_one_modal',
} as const;

/** Events API events Nurture listens to; manifest.yml must subscribe to exactly these (tests check). */
export const SlackEvents = {
  appHomeOpened: 'app_home_opened',
} as const;
