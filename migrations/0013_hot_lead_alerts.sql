-- Hot-lead alerts (src/modules/alerts): channels set up with /nurture alerts, the alerts raised when a
-- lead's score crosses a channel's threshold upward, and the 1:1 emails reps send from an alert.

-- One row per channel that receives alerts. The filters and quiet hours are kept as one document,
-- validated by zod (alert-channel.ts), so a new filter needs no migration.
CREATE TABLE alert_channels (
  team_id     text NOT NULL REFERENCES workspaces (team_id) ON DELETE CASCADE,
  channel_id  text NOT NULL,
  settings    jsonb NOT NULL,
  created_by  text NOT NULL,
  updated_by  text NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (team_id, channel_id)
);

-- One row per alert raised. A lead is alerted at most once per cool-down across every channel: the
-- scorer inserts alerts in the transaction that holds the lead's score row locked, so two scoring jobs
-- can't both raise one.
CREATE TABLE lead_alerts (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  team_id       text NOT NULL REFERENCES workspaces (team_id) ON DELETE CASCADE,
  lead_id       bigint NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
  channel_id    text NOT NULL,
  score         double precision NOT NULL,
  threshold     double precision NOT NULL,
  -- The score's reasons when it crossed (scoring's ScoreReason list), for the message.
  reasons       jsonb NOT NULL,
  -- pending: waiting for its turn in the channel (rate limit, quiet hours, a snooze); posted; then what
  -- a rep made of it.
  status        text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'posted', 'claimed', 'not_a_fit')),
  raised_at     timestamptz NOT NULL,
  post_after    timestamptz NOT NULL,
  -- posted_at follows the app's clock (reminders, digests); slack_posted_at is the database's real time,
  -- which the per-channel rate limit counts in (Slack's limits are in real seconds).
  posted_at     timestamptz,
  slack_posted_at timestamptz,
  -- The message showing it: its own, or a roll-up's (rolled_up) shared with other alerts.
  message_ts    text,
  rolled_up     boolean NOT NULL DEFAULT false,
  reminded_at   timestamptz,
  snoozed_by    text,
  snoozed_until timestamptz,
  decided_by    text,
  decided_at    timestamptz
);
-- The cool-down: a lead's latest alert.
CREATE INDEX lead_alerts_by_lead ON lead_alerts (team_id, lead_id, raised_at DESC);
-- The poster's queue per channel, and the sweep for due alerts (quiet hours, snoozes).
CREATE INDEX lead_alerts_pending ON lead_alerts (post_after) WHERE status = 'pending';
-- Reminders: posted alerts nobody has acted on.
CREATE INDEX lead_alerts_unclaimed ON lead_alerts (posted_at) WHERE status = 'posted' AND reminded_at IS NULL;
-- A message's alerts (button clicks) and "posted to this channel in the last minute" (roll-ups).
CREATE INDEX lead_alerts_by_message ON lead_alerts (team_id, channel_id, message_ts);
CREATE INDEX lead_alerts_by_channel_post ON lead_alerts (team_id, channel_id, slack_posted_at) WHERE slack_posted_at IS NOT NULL;

-- A rep's 1:1 email from an alert: written in the modal, sent through the delivery pipeline (email_sends
-- source_kind 'one_to_one', source_id = this row), logged on the lead.
CREATE TABLE one_to_one_emails (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  team_id      text NOT NULL REFERENCES workspaces (team_id) ON DELETE CASCADE,
  lead_id      bigint NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
  alert_id     bigint REFERENCES lead_alerts (id) ON DELETE SET NULL,
  sender_user  text NOT NULL,
  sender_name  text NOT NULL CHECK (length(sender_name) BETWEEN 1 AND 80),
  reply_to     text NOT NULL CHECK (length(reply_to) BETWEEN 3 AND 254),
  subject      text NOT NULL CHECK (length(subject) BETWEEN 1 AND 250),
  body         text NOT NULL CHECK (length(body) BETWEEN 1 AND 20000),
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX one_to_one_emails_by_lead ON one_to_one_emails (team_id, lead_id);

ALTER TABLE email_sends DROP CONSTRAINT email_sends_source_kind_check;
ALTER TABLE email_sends ADD CONSTRAINT email_sends_source_kind_check CHECK (source_kind IN ('newsletter', 'sequence', 'one_to_one'));
