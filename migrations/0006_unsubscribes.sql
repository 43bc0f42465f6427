-- Unsubscribes, and the outbox that stands in for Resend when RESEND_API_KEY is not set.

-- Each time a person asked to stop receiving marketing email through a link of ours: when, how, and from
-- which email. leads.status says whether we may mail someone; this says why not, for the person who asks
-- "I never unsubscribed" (or the regulator who asks "when did they opt out?"), and for digests.
-- One row per effective request: asking again while already unsubscribed records nothing new.
-- Erased with the lead (/nurture forget), whose address hash then keeps them from being mailed.
CREATE TABLE unsubscribes (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  team_id        text NOT NULL REFERENCES workspaces (team_id) ON DELETE CASCADE,
  lead_id        bigint NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
  -- one_click: RFC 8058 POST from the mail client's own unsubscribe button; page: the confirm button of
  -- GET /u/<token>. Later sources (Slack, API) add theirs to this list.
  method         text NOT NULL CHECK (method IN ('one_click', 'page')),
  -- The send ledger row of the email whose link was used (NULL: a link from no recorded send, e.g. a
  -- test email). The ledger's migration adds the foreign key.
  send_id        bigint,
  -- subscribed, or bounced/complained: such a lead stays in that status, and this row still records
  -- that the person asked not to be mailed.
  status_before  text NOT NULL,
  -- Tells a person's browser from a mail provider's one-click request or a security scanner, when an
  -- unsubscribe is disputed. Clipped; no IP address is kept.
  user_agent     text CHECK (length(user_agent) <= 300),
  created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX unsubscribes_by_lead ON unsubscribes (lead_id, created_at DESC);
-- Digests: unsubscribes per workspace over a week or a month.
CREATE INDEX unsubscribes_by_team_time ON unsubscribes (team_id, created_at);

-- The outbox transport: without a Resend API key every email Nurture would send is recorded here instead
-- (for trying Nurture safely). It answers like Resend's batch endpoint, idempotency included: the same
-- key and the same batch return the same ids; the same key with another batch is refused. Keys are unique
-- across workspaces, as they are in one Resend account. Not pruned: trial volumes are small.
CREATE TABLE outbox_emails (
  id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  team_id          text NOT NULL REFERENCES workspaces (team_id) ON DELETE CASCADE,
  idempotency_key  text NOT NULL,
  batch_index      integer NOT NULL,
  -- SHA-256 of the whole batch, like the body fingerprint Resend keeps with an idempotency key.
  batch_hash       bytea NOT NULL,
  -- The id Resend would have given; NULL when the email was refused (error says why), as Resend's
  -- permissive batch validation refuses an item.
  message_id       uuid,
  error            text,
  from_address     text NOT NULL,
  to_address       text NOT NULL,
  subject          text NOT NULL,
  html_body        text NOT NULL,
  text_body        text NOT NULL,
  headers          jsonb NOT NULL DEFAULT '{}'::jsonb,
  tags             jsonb NOT NULL DEFAULT '[]'::jsonb,
  created_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (idempotency_key, batch_index),
  CHECK ((message_id IS NULL) <> (error IS NULL))
);
CREATE INDEX outbox_emails_by_team_time ON outbox_emails (team_id, created_at DESC);
