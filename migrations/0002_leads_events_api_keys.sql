-- Leads, the behaviour event log, API keys, and the hashes of erased addresses.

CREATE TABLE leads (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  team_id         text NOT NULL REFERENCES workspaces (team_id) ON DELETE CASCADE,
  -- Stored lower-cased: one person, one lead, however their address is capitalised.
  email           text NOT NULL CHECK (email = lower(email) AND position('@' IN email) > 1),
  first_name      text,
  last_name       text,
  company         text,
  title           text,
  industry        text,
  stage           text NOT NULL DEFAULT 'awareness' CHECK (stage IN ('awareness', 'consideration', 'decision', 'customer')),
  source          text,
  time_zone       text,                 -- IANA, e.g. Asia/Tokyo; NULL: the workspace default
  locale          text,                 -- BCP 47, e.g. ja-JP
  owner_user_id   text,                 -- Slack user id of the owning rep
  attributes      jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(attributes) = 'object'),
  status          text NOT NULL DEFAULT 'subscribed' CHECK (status IN ('subscribed', 'unsubscribed', 'bounced', 'complained')),
  consent_at      timestamptz,
  consent_source  text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (team_id, email)
);
CREATE INDEX leads_by_team_created ON leads (team_id, created_at);

-- Addresses erased with /nurture forget: only an HMAC of the address (keyed by TRACKING_SECRET), so the
-- person is never mailed or re-imported by accident, while the address itself is gone.
CREATE TABLE forgotten_emails (
  team_id       text NOT NULL REFERENCES workspaces (team_id) ON DELETE CASCADE,
  email_hash    bytea NOT NULL,
  forgotten_at  timestamptz NOT NULL DEFAULT now(),
  forgotten_by  text NOT NULL,
  PRIMARY KEY (team_id, email_hash)
);

-- API keys: only a SHA-256 of the key is stored (keys are 256 random bits, so no slow hash is needed);
-- the prefix identifies a key in lists without revealing it.
CREATE TABLE api_keys (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  team_id       text NOT NULL REFERENCES workspaces (team_id) ON DELETE CASCADE,
  label         text NOT NULL,
  prefix        text NOT NULL,
  key_hash      bytea NOT NULL UNIQUE,
  created_by    text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  last_used_at  timestamptz,
  revoked_at    timestamptz,
  revoked_by    text
);
CREATE UNIQUE INDEX api_keys_active_label ON api_keys (team_id, lower(label)) WHERE revoked_at IS NULL;

-- The event log: every behaviour of every lead (email opens and clicks, website visits, custom events
-- such as resource_download). Segments, scoring and digests all read it.
--
-- Size: built for tens of millions of rows. Partitioned by month on occurred_at so that
--   * retention is DROP TABLE of a month, not a DELETE that bloats the table: raw events are kept for
--     24 months (events.maintain-partitions drops older months; later aggregates keep the trends);
--   * time-window queries ("visited /pricing in the last 30 days") touch only the recent months.
-- Months are created ahead by the same daily job (and by this migration); rows outside every month
-- (old history, clock skew) land in events_default.
--
-- verdict/verdict_reason: tracking marks machine activity (privacy proxies, link scanners, bots);
-- NULL = not judged (API and custom events come from our customers' own systems and count as human).
CREATE TABLE events (
  id              bigint GENERATED ALWAYS AS IDENTITY,
  team_id         text NOT NULL,
  lead_id         bigint NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
  kind            text NOT NULL CHECK (kind IN ('email', 'web', 'custom')),
  name            text NOT NULL,
  properties      jsonb NOT NULL DEFAULT '{}'::jsonb,
  -- For web visits: the URL's path, so "visited /pricing" is an index range scan.
  url_path        text,
  source          text NOT NULL,
  -- The sender's own id for the event: a retried delivery with the same id is stored once.
  dedupe_key      text,
  occurred_at     timestamptz NOT NULL,
  received_at     timestamptz NOT NULL DEFAULT now(),
  verdict         text CHECK (verdict IN ('human', 'machine')),
  verdict_reason  text,
  PRIMARY KEY (id, occurred_at)
) PARTITION BY RANGE (occurred_at);

CREATE TABLE events_default PARTITION OF events DEFAULT;

-- The lead card, forgetting a person, and per-lead behaviour conditions (lead_id is unique across teams).
CREATE INDEX events_by_lead_time ON events (lead_id, occurred_at DESC);
-- "Did anyone do <name> in the window": segments and digests by event name.
CREATE INDEX events_by_team_name_time ON events (team_id, name, occurred_at) INCLUDE (lead_id);
-- Website visits by page: small (web events only) and covering for "visited <path> within N days".
CREATE INDEX events_web_by_path ON events (team_id, url_path, occurred_at) INCLUDE (lead_id) WHERE kind = 'web';
-- Idempotent ingest: a unique index must include the partition key; a retry carries the same occurred_at.
CREATE UNIQUE INDEX events_dedupe ON events (team_id, dedupe_key, occurred_at) WHERE dedupe_key IS NOT NULL;

-- Creates the monthly partitions from `from_month` through `months_ahead` months after now.
CREATE FUNCTION ensure_event_partitions(from_month date, months_ahead int) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
  month date := date_trunc('month', from_month)::date;
  last_month date := (date_trunc('month', now()) + make_interval(months => months_ahead))::date;
  created int := 0;
  partition_name text;
BEGIN
  WHILE month <= last_month LOOP
    partition_name := format('events_%s', to_char(month, 'YYYY_MM'));
    IF to_regclass(partition_name) IS NULL THEN
      EXECUTE format('CREATE TABLE %I PARTITION OF events FOR VALUES FROM (%L) TO (%L)',
                     partition_name, month, (month + interval '1 month')::date);
      created := created + 1;
    END IF;
    month := (month + interval '1 month')::date;
  END LOOP;
  RETURN created;
END $$;

SELECT ensure_event_partitions((date_trunc('month', now()) - interval '24 months')::date, 3);
