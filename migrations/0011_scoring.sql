-- Lead scoring (src/modules/scoring): a tunable model per workspace and each lead's running score.

-- The workspace's scoring model (/nurture scoring), validated by zod in scoring-model.ts. No row: the
-- defaults. Kept as one document so a new weight needs no migration; old documents are read through
-- the schema's defaults.
CREATE TABLE scoring_models (
  team_id     text PRIMARY KEY REFERENCES workspaces (team_id) ON DELETE CASCADE,
  model       jsonb NOT NULL,
  updated_by  text NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- One row per scored lead: the score as it stood at scored_at. It decays exponentially, so the score
-- now is score × 2^(−(now − scored_at) / half-life); new points are added to that decayed value and the
-- row is rewritten (incremental: nothing is ever recomputed from the event log on the hot path).
-- reasons: the top contributions, each decayed to scored_at like the score, with counts and times:
-- [{"key":"page:/pricing","kind":"key_page","subject":"/pricing","points":21.4,"count":3,"first":…,"last":…}]
CREATE TABLE lead_scores (
  lead_id    bigint PRIMARY KEY REFERENCES leads (id) ON DELETE CASCADE,
  team_id    text NOT NULL,
  score      double precision NOT NULL CHECK (score >= 0),
  scored_at  timestamptz NOT NULL,
  reasons    jsonb NOT NULL DEFAULT '[]'::jsonb
);
-- "The workspace's hottest leads" (alerts, digests): ordered by the stored score, decayed at read.
CREATE INDEX lead_scores_by_team_score ON lead_scores (team_id, score DESC);
