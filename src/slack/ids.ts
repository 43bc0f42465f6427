/** Every Slack action_id and callback_id in one place: <feature>_<element>. */
export const ActionIds = {
  homeShowHelp: 'home_show_help',
  homeShowRoles: 'home_show_roles',
  importFileInput: 'import_file_input',
  importSourceInput: 'import_source_input',
  importConsentInput: 'import_consent_input',
  leadForgetConfirm: 'lead_forget_confirm',
} as const;

export const CallbackIds = {
  helpModal: 'help_modal',
  rolesModal: 'roles_modal',
  importModal: 'import_modal',
} as const;

/** Events API events Nurture listens to; manifest.yml must subscribe to exactly these (tests check). */
export const SlackEvents = {
  appHomeOpened: 'app_home_opened',
} as const;
