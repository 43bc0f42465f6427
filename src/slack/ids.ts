/** Every Slack action_id and callback_id in one place: <feature>_<element>. */
export const ActionIds = {
  homeShowHelp: 'home_show_help',
  homeShowRoles: 'home_show_roles',
} as const;

export const CallbackIds = {
  helpModal: 'help_modal',
  rolesModal: 'roles_modal',
} as const;
