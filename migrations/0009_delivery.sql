-- Delivery: workspace sending settings, templates, newsletters, the send ledger every email goes through,
-- Resend's webhooks, and the shared request-rate limiter.

-- Sending settings (/nurture settings). Defaults are safe: nothing goes out before a postal address is set.
ALTER TABLE workspaces
  -- IANA zone for newsletter times and the default of leads without one.
  ADD COLUMN time_zone             text NOT NULL DEFAULT 'UTC',
  -- Shown as the From name and in the footer; NULL: the name in EMAIL_FROM.
  ADD COLUMN sender_name           text CHECK (length(sender_name) BETWEEN 1 AND 80),
  -- Required by anti-spam law (CAN-SPAM in the US, the Act on Specified Electronic Mail in Japan) in
  -- every marketing email's footer. NULL: marketing sends are refused until an admin sets it.
  ADD COLUMN postal_address        text CHECK (length(postal_address) BETWEEN 5 AND 300),
  -- Frequency cap on marketing email per lead, across newsletters and sequences.
  ADD COLUMN cap_per_day           integer NOT NULL DEFAULT 1 CHECK (cap_per_day BETWEEN 1 AND 20),
  ADD COLUMN cap_per_week          integer NOT NULL DEFAULT 3 CHECK (cap_per_week BETWEEN 1 AND 50),
  -- Below this many recipients the requester may approve their own newsletter. NULL: always two people.
  ADD COLUMN self_approval_below   integer CHECK (self_approval_below BETWEEN 1 AND 100000),
  -- An approved newsletter that has not started this long after its time expires instead of going out late.
  ADD COLUMN send_expiry_minutes   integer NOT NULL DEFAULT 60 CHECK (send_expiry_minutes BETWEEN 5 AND 10080);

-- Email templates: Markdown with Liquid merge fields, written for one buying stage.
CREATE TABLE templates (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  team_id     text NOT NULL REFERENCES workspaces (team_id) ON DELETE CASCADE,
  name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 80),
  stage       text NOT NULL CHECK (stage IN ('awareness', 'consideration', 'decision')),
  subject     text NOT NULL CHECK (length(subject) BETWEEN 1 AND 250),
  preheader   text NOT NULL DEFAULT '' CHECK (length(preheader) <= 250),
  body        text NOT NULL CHECK (length(body) BETWEEN 1 AND 50000),
  created_by  text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_by  text NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX templates_name_per_team ON templates (team_id, lower(name));

-- Newsletters: one broadcast of a template to a segment, approved by a second person.
CREATE TABLE newsletters (
  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  team_id          text NOT NULL REFERENCES workspaces (team_id) ON DELETE CASCADE,
  template_id      bigint REFERENCES templates (id) ON DELETE SET NULL,
  -- A finished newsletter does not keep its segment from being deleted (content.plan names it); an
  -- unfinished one does (the segments module asks newsletters before deleting).
  segment_id       bigint REFERENCES segments (id) ON DELETE SET NULL,
  -- What the approver saw is what goes out: the template (name, stage, subject, preheader, body) and
  -- the sender (name, postal address) as they were when the plan was made. Editing the template later
  -- changes nothing here.
  content          jsonb NOT NULL,
  status           text NOT NULL DEFAULT 'awaiting_approval' CHECK (status IN
                     ('awaiting_approval', 'rejected', 'scheduled', 'sending', 'paused', 'sent', 'cancelled', 'expired')),
  send_at          timestamptz NOT NULL,
  requested_by     text NOT NULL,
  decided_by       text,
  decided_at       timestamptz,
  -- The send plan card: where it was posted, so progress and the outcome update it in place.
  channel_id       text NOT NULL,
  message_ts       text,
  -- Audience after suppression and caps when the plan was made; recipients: ledger rows at start.
  planned_count    integer NOT NULL,
  recipient_count  integer,
  started_at       timestamptz,
  finished_at      timestamptz,
  cancelled_by     text,
  -- Why it paused itself (repeated failures, used-up quota), shown on the card and sent to its owner.
  pause_reason     text,
  -- Chunks that failed in a row; reset by any success. Reaching the limit pauses the send.
  failure_streak   integer NOT NULL DEFAULT 0,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX newsletters_by_team_created ON newsletters (team_id, created_at DESC);
CREATE INDEX newsletters_by_segment ON newsletters (team_id, segment_id, created_at DESC);

-- The send ledger: one row per email Nurture means to send, keyed by (lead, source). It is the truth
-- about what went out: a row is claimed (sending) with the Idempotency-Key of the batch call carrying it
-- before the call, and only then marked accepted, so a crash or a second worker resends the same batch
-- under the same key (Resend answers it from its 24-hour memory) instead of mailing anyone twice.
--
-- Sizes: one row per recipient of every send (100k-recipient newsletters are expected). Rows are
-- updated twice on the way out (sending, accepted) and by webhooks after; fillfactor leaves room for
-- the updates that touch no index to stay on their page.
CREATE TABLE email_sends (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- No foreign keys: a 100,000-recipient send writes its rows in one statement, and each key would cost
  -- a check per row (measured 0.25 s for workspaces, 0.37 s for leads). The rows are written from the
  -- leads table in the same statement; erasing a lead deletes its rows (leads/queries.ts eraseLead); a
  -- chunk finding its lead gone suppresses the row.
  team_id       text NOT NULL,
  lead_id       bigint NOT NULL,
  -- newsletter: source_id = newsletters.id, run_id and source_step 0. sequence: source_id = the
  -- sequence, run_id = the enrollment, source_step = the step.
  source_kind   text NOT NULL CHECK (source_kind IN ('newsletter', 'sequence')),
  source_id     bigint NOT NULL,
  run_id        bigint NOT NULL DEFAULT 0,
  source_step   integer NOT NULL DEFAULT 0,
  -- Rows are sent in chunks of at most 100 rows of one workspace, one job and one batch call each
  -- (ids from email_chunk_ids).
  chunk_id      bigint NOT NULL,
  state         text NOT NULL DEFAULT 'queued' CHECK (state IN (
                  'queued',      -- waiting for its chunk's job
                  'sending',     -- claimed under batch_key; the call may or may not have reached Resend
                  'accepted',    -- Resend took it (provider_id)
                  'delivered', 'delivery_delayed', 'bounced', 'complained',  -- from Resend's webhooks
                  'failed',      -- refused for good (reason), e.g. an invalid address
                  'suppressed',  -- not sent: the lead is unsubscribed, bounced or complained (reason)
                  'capped',      -- not sent: the frequency cap (reason); sequences defer instead
                  'deferred',    -- to be sent later (not_before), e.g. held by the frequency cap
                  'cancelled')), -- not sent: the send was cancelled first
  reason        text,
  batch_key     text,
  provider_id   text,
  not_before    timestamptz,
  queued_at     timestamptz NOT NULL DEFAULT now(),
  -- When it was handed to the provider (claimed): counts toward the frequency cap unless it failed.
  sent_at       timestamptz,
  accepted_at   timestamptz,
  delivered_at  timestamptz,
  opened_at     timestamptz,
  clicked_at    timestamptz,
  -- Soft bounces and delays seen for this email (a hard bounce ends in state bounced).
  soft_bounces  smallint NOT NULL DEFAULT 0,
  updated_at    timestamptz NOT NULL DEFAULT now(),
  UNIQUE (team_id, source_kind, source_id, run_id, source_step, lead_id)
) WITH (fillfactor = 45);
CREATE SEQUENCE email_chunk_ids AS bigint;
-- Indexes are few on purpose: a 100,000-recipient newsletter writes 100,000 rows and updates each twice
-- within seconds (claimed, accepted). No index holds a column those updates change, so they stay on
-- their page without touching any index (HOT updates; fillfactor leaves the room). The unique key above
-- also serves a source's rows (progress, summaries: team_id, source_kind, source_id). Resend's id is
-- deliberately not indexed: webhooks find the row by the nurture_send tag every email carries.
-- A chunk's job claims its rows.
CREATE INDEX email_sends_by_chunk ON email_sends (chunk_id);
-- The frequency cap and the lead card: a lead's emails (a few a week: the cap filters sent_at in the rows).
CREATE INDEX email_sends_by_lead ON email_sends (lead_id);

-- unsubscribes.send_id stays without the foreign key 0006 promised: deleting a lead's ledger rows would
-- look up unsubscribes once per row. The send is only named when it exists (unsubscribes/queries.ts).

-- Resend's webhook deliveries, kept by their svix-id: a redelivery (Resend retries for about a day, with
-- the same id) is recognised and not processed twice. The body is verified before it is stored.
-- team_id is read from the email's tags when it has them; events about emails we never sent have none.
-- Pruned after 30 days by delivery.prune-webhooks.
CREATE TABLE resend_webhooks (
  svix_id       text PRIMARY KEY,
  team_id       text REFERENCES workspaces (team_id) ON DELETE CASCADE,
  event_type    text NOT NULL,
  payload       jsonb NOT NULL,
  received_at   timestamptz NOT NULL DEFAULT now(),
  processed_at  timestamptz,
  outcome       text
);
CREATE INDEX resend_webhooks_received ON resend_webhooks (received_at);

-- Request-rate limiters shared by every worker process: each request reserves the next free slot
-- (next_at), spaced 1/rate apart, so processes on any machine together stay under one provider limit (one
-- Resend account serves every workspace, so this table is not per workspace). blocked_until holds everyone
-- back after the provider said to wait (a 429's retry-after). Unlogged: the state is worth a few seconds,
-- a crash may lose it, and commits that write no WAL wait for no disk flush (every batch call takes a slot).
CREATE UNLOGGED TABLE rate_limiters (
  name           text PRIMARY KEY,
  next_at        timestamptz NOT NULL DEFAULT clock_timestamp(),
  blocked_until  timestamptz
);
