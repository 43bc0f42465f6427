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
} as const;

export const CallbackIds = {
  helpModal: 'help_modal',
  rolesModal: 'roles_modal',
  importModal: 'import_modal',
  segmentBuilder: 'segment_builder',
} as const;

/** Events API events Nurture listens to; manifest.yml must subscribe to exactly these (tests check). */
export const SlackEvents = {
  appHomeOpened: 'app_home_opened',
} as const;
