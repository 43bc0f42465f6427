-- Segments: saved, named audience rules, evaluated live against leads and events (never a stored list).

CREATE TABLE segments (
  id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  team_id             text NOT NULL REFERENCES workspaces (team_id) ON DELETE CASCADE,
  name                text NOT NULL CHECK (length(name) BETWEEN 1 AND 80),
  description         text,
  rule                jsonb NOT NULL,
  -- Reporting segments may count unsubscribed, bounced and complained leads; sending never reaches them.
  include_suppressed  boolean NOT NULL DEFAULT false,
  created_by          text NOT NULL,
  created_at          timestamptz NOT NULL DEFAULT now(),
  updated_by          text NOT NULL,
  updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX segments_name_per_team ON segments (team_id, lower(name));

-- A daily size per segment, for "change since last week" in /nurture segment list.
CREATE TABLE segment_sizes (
  team_id      text NOT NULL,
  segment_id   bigint NOT NULL REFERENCES segments (id) ON DELETE CASCADE,
  measured_on  date NOT NULL,
  size         integer NOT NULL,
  PRIMARY KEY (segment_id, measured_on)
);

-- Lead indexes for the common attribute conditions (see bench/README.md → segments for the plans):
-- stage and industry narrow most marketing rules; (team_id, id) serves keyset paging of audiences.
CREATE INDEX leads_by_team_stage ON leads (team_id, stage);
CREATE INDEX leads_by_team_industry ON leads (team_id, lower(industry));
CREATE INDEX leads_by_team_id ON leads (team_id, id);
