-- Sequences: step emails each lead walks through at their own pace (src/modules/sequences).
-- A sequence has steps; a lead's walk through one is a run (enrollment). Runs are due at a time; the
-- scheduler tick claims due runs, writes their step's ledger rows (email_sends: source_kind 'sequence',
-- source_id = sequence, run_id = run, source_step = the step's id) and moves each run to its next step.

CREATE TABLE sequences (
  id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  team_id              text NOT NULL REFERENCES workspaces (team_id) ON DELETE CASCADE,
  name                 text NOT NULL CHECK (length(name) BETWEEN 1 AND 80),
  -- What it is for, in words (shown on the card).
  goal                 text CHECK (length(goal) <= 300),
  -- A custom event that means the goal was reached (e.g. demo_requested): the lead's run ends.
  goal_event           text CHECK (goal_event ~ '^[A-Za-z][A-Za-z0-9_.:-]{0,63}$'),
  -- {"kind":"segment","segmentId":1} | {"kind":"event","name":"resource_download","properties":{"asset":"whitepaper-x"}}
  -- | {"kind":"manual"}; validated by zod in src/modules/sequences/sequence.ts.
  trigger              jsonb NOT NULL DEFAULT '{"kind":"manual"}'::jsonb,
  -- The trigger's segment, kept as a column too. `segment delete` refuses while a sequence that is not
  -- archived enrolls from it (sequence-usages.ts); an archived one lets it go and keeps the id in trigger.
  trigger_segment_id   bigint REFERENCES segments (id) ON DELETE SET NULL,
  -- {"days":[1,2,3,4,5],"start":"09:00","end":"17:00","holidays":"jp"|null}, in the lead's own zone.
  send_window          jsonb NOT NULL,
  -- Overrides of the workspace sender name, and where replies go (a person, not a no-reply box).
  sender_name          text CHECK (length(sender_name) BETWEEN 1 AND 80),
  reply_to             text CHECK (position('@' IN reply_to) > 1),
  -- NULL: a lead goes through a sequence once. N: again, N days after their last run ended.
  reenroll_after_days  integer CHECK (reenroll_after_days BETWEEN 1 AND 3650),
  status               text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'active', 'paused', 'archived')),
  -- Send batches failing one after another (each after its own retries); a success resets it. At the
  -- pipeline's limit the sequence pauses itself and tells its creator, as a newsletter does.
  failure_streak       integer NOT NULL DEFAULT 0,
  -- Segment-entry triggers: the sweep enrolls members without a run; it last ran at (for the card).
  swept_at             timestamptz,
  created_by           text NOT NULL,
  created_at           timestamptz NOT NULL DEFAULT now(),
  updated_by           text NOT NULL,
  updated_at           timestamptz NOT NULL DEFAULT now(),
  activated_at         timestamptz,
  paused_at            timestamptz
);
CREATE UNIQUE INDEX sequences_name_per_team ON sequences (team_id, lower(name));
CREATE INDEX sequences_active ON sequences (team_id) WHERE status = 'active';

-- A step's id is its identity in the ledger (email_sends.source_step): reordering or editing a step never
-- makes it another step, so people already past it are not sent it again. Removed steps are kept
-- (removed_at) so their ledger rows and stats still name them.
CREATE TABLE sequence_steps (
  id              integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  team_id         text NOT NULL,
  sequence_id     bigint NOT NULL REFERENCES sequences (id) ON DELETE CASCADE,
  position        integer NOT NULL CHECK (position >= 1),
  template_id     bigint NOT NULL REFERENCES templates (id) ON DELETE RESTRICT,
  delay_minutes   integer NOT NULL CHECK (delay_minutes BETWEEN 0 AND 525600),
  delay_from      text NOT NULL DEFAULT 'previous' CHECK (delay_from IN ('enrollment', 'previous')),
  -- Optional, validated by zod: {"kind":"previous_not_clicked"} | {"kind":"previous_not_opened"}
  -- | {"kind":"stage","stages":["consideration"]} | {"kind":"not_visited","url":"/pricing","days":30}.
  condition       jsonb,
  removed_at      timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX sequence_steps_position ON sequence_steps (sequence_id, position) WHERE removed_at IS NULL;

-- One lead's walk through one sequence. next_step_id/due_at: the step to send and when (already moved
-- into the send window). A lead is in at most one unfinished run of a sequence (the partial unique index),
-- which also makes enrolling twice (a retried sweep, two workers) a no-op.
CREATE TABLE sequence_runs (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  team_id        text NOT NULL,
  sequence_id    bigint NOT NULL REFERENCES sequences (id) ON DELETE CASCADE,
  lead_id        bigint NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
  status         text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'completed', 'exited')),
  -- Why it ended: unsubscribed, bounced, complained, goal, customer, removed, sequence archived…
  exit_reason    text,
  -- Who or what enrolled the lead: a Slack user id, 'segment', 'event', 'api'.
  enrolled_by    text NOT NULL,
  enrolled_at    timestamptz NOT NULL,
  next_step_id   integer,
  due_at         timestamptz,
  -- The step handed to delivery last, and when (delays "after the previous step" count from it).
  last_step_id   integer,
  last_sent_at   timestamptz,
  ended_at       timestamptz,
  updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX sequence_runs_one_open ON sequence_runs (sequence_id, lead_id) WHERE status = 'active';
-- The tick: active runs due by now, oldest first.
CREATE INDEX sequence_runs_due ON sequence_runs (due_at) WHERE status = 'active' AND due_at IS NOT NULL;
-- Re-enrollment and the lead card: a lead's runs.
CREATE INDEX sequence_runs_by_lead ON sequence_runs (lead_id);

-- "A human is on this lead": automated nurture (sequence steps) holds off until held_until. Claiming a
-- hot lead sets it; a due step of a held lead moves to the hold's end (then into the send window).
CREATE TABLE lead_nurture_holds (
  team_id      text NOT NULL,
  lead_id      bigint PRIMARY KEY REFERENCES leads (id) ON DELETE CASCADE,
  held_until   timestamptz NOT NULL,
  held_by      text NOT NULL,
  reason       text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now()
);
