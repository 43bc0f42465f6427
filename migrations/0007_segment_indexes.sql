-- Indexes for segment audiences (count, preview sample, keyset pages), chosen on 1,000,000 leads and
-- 5,000,000 events: bench/segments.ts, figures and plans in bench/README.md → segments.
--
-- A rule is evaluated two ways, and the planner picks per condition:
--   * across the workspace: the events of one behaviour (a name or a page, in a window) are read from
--     an index and their leads hashed, then joined to the leads that pass the attribute conditions;
--   * lead by lead: for a few thousand candidate leads (or a keyset page), each lead's events are probed.
-- Both must be answerable from the index alone. Every behaviour condition also filters
-- `verdict IS DISTINCT FROM 'machine'`; indexes without verdict send each matching event to the table
-- (random reads over a 900 MB table): that, not the index scan, was most of the cost.
--
-- The three event indexes below replace indexes of the same name and key from 0002 with wider ones
-- (same keys, more INCLUDE columns): the same number of index entries per inserted event, so ingest
-- pays only for the extra bytes. The lead card, forgetting a person and the builder's type-ahead keep
-- using them as before. Rebuilding locks events against writes for the build (~15 s per 5M events).

-- Per-lead probes ("did this lead visit /pricing in the last 30 days", "at least 3 opens"): the key
-- (lead_id, occurred_at DESC) is unchanged (the lead card reads a lead's newest events from it); the
-- included columns are everything a behaviour filter reads except properties, so a probe is an
-- index-only scan instead of a table read per event. Measured: the behaviour-heavy rule's count 3.6 → 0.7 s.
DROP INDEX events_by_lead_time;
CREATE INDEX events_by_lead_time ON events (lead_id, occurred_at DESC) INCLUDE (team_id, name, kind, url_path, verdict);

-- "Did anyone in the workspace do <name> in the window" (email opens and clicks, custom events), read
-- whole and hashed: verdict added so it stays index-only (the big bench workspace has 112k clicks in 60
-- days and 480k opens in 90: each would otherwise be a table read).
DROP INDEX events_by_team_name_time;
CREATE INDEX events_by_team_name_time ON events (team_id, name, occurred_at) INCLUDE (lead_id, verdict);

-- Website visits by page (`url_path LIKE '/pricing'` is an equality, '/products/%' a range): partial on
-- web events, verdict added for the same reason. "/pricing in 30 days" went from 117 ms (32k table
-- reads) to 8 ms.
DROP INDEX events_web_by_path;
CREATE INDEX events_web_by_path ON events (team_id, url_path, occurred_at) INCLUDE (lead_id, verdict) WHERE kind = 'web';

-- Stage and industry narrow most marketing rules, often together ("consideration-stage manufacturing").
-- Two (team_id, …) indexes cannot be combined by a BitmapAnd (Postgres treats the second as redundant
-- because both repeat team_id), so "stage AND industry" read all 88k consideration leads of the big
-- workspace (145 ms) instead of the 17k that match both (18 ms). This index serves stage alone (its
-- prefix, so it replaces leads_by_team_stage from 0003) and stage with industry; leads_by_team_industry
-- stays for industry alone. Rules compare stage to the column itself (compile-rule.ts), as this needs.
DROP INDEX leads_by_team_stage;
CREATE INDEX leads_by_team_stage_industry ON leads (team_id, stage, lower(industry));

-- Index-only scans skip the table only for pages the visibility map marks all-visible, and VACUUM sets
-- those marks. Events are only ever inserted, and autovacuum visits a partition after inserts of 20 % of
-- its rows (~400k events late in a 2M-event month), so the newest events, the ones "in the last N days"
-- asks for, are read from the table until then: with 712k unvacuumed events a mixed-rule count went from
-- 36 to 97 ms. After 1 % instead; on an insert-only partition such a vacuum reads only the new pages.
-- Storage parameters are per partition (a partitioned table has none): the existing months here, new
-- ones in ensure_event_partitions (otherwise as in 0002).
DO $$
DECLARE
  month regclass;
BEGIN
  FOR month IN SELECT inhrelid::regclass FROM pg_inherits WHERE inhparent = 'events'::regclass LOOP
    EXECUTE format('ALTER TABLE %s SET (autovacuum_vacuum_insert_scale_factor = 0.01)', month);
  END LOOP;
END $$;

CREATE OR REPLACE FUNCTION ensure_event_partitions(from_month date, months_ahead int) RETURNS int
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
      EXECUTE format('CREATE TABLE %I PARTITION OF events FOR VALUES FROM (%L) TO (%L) WITH (autovacuum_vacuum_insert_scale_factor = 0.01)',
                     partition_name, month, (month + interval '1 month')::date);
      created := created + 1;
    END IF;
    month := (month + interval '1 month')::date;
  END LOOP;
  RETURN created;
END $$;

-- Not added: trigram (pg_trgm) indexes for `contains` on title and company. They pay off for patterns
-- of 3 or more characters (title contains "director" and a stage: 104 → 22 ms), but for shorter ones
-- (title contains "VP", the most common role filter) the planner still chose a full scan of the
-- trigram index, and the mixed rule's attribute part went from 18 ms to 300 ms; they would also add GIN
-- entries to every lead insert and title change. See bench/README.md → segments.
