/**
 * Resend tags on every email the pipeline sends, echoed in Resend's webhooks: the send ledger row and the
 * workspace it belongs to. They are how a webhook finds its row (even before Resend's id is recorded).
 */
export const SEND_TAG = 'nurture_send';
export const TEAM_TAG = 'nurture_team';
