-- Workspaces, the roles people hold in them, and an audit log of who changed what.
-- Every table carries team_id (the Slack workspace) and every query filters on it.

CREATE TABLE workspaces (
  team_id     text PRIMARY KEY,
  created_at  timestamptz NOT NULL DEFAULT now(),
  last_seen_at timestamptz NOT NULL DEFAULT now()
);

-- Roles granted inside Nurture. Slack workspace owners and admins are Nurture admins without a row
-- here (read from users.info each time), so demoting someone in Slack takes effect at once.
CREATE TABLE workspace_roles (
  team_id     text NOT NULL REFERENCES workspaces (team_id) ON DELETE CASCADE,
  user_id     text NOT NULL,
  role        text NOT NULL CHECK (role IN ('admin', 'marketer', 'rep')),
  granted_by  text NOT NULL,
  granted_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (team_id, user_id, role)
);

-- Append-only. Kept indefinitely: it is small (admin actions) and answers "who did this?" months later.
CREATE TABLE audit_log (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  team_id       text NOT NULL REFERENCES workspaces (team_id) ON DELETE CASCADE,
  actor_user_id text NOT NULL,
  action        text NOT NULL,        -- dotted verb, e.g. role.granted
  subject       text,                 -- what it was done to, e.g. a Slack user id
  details       jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_by_team_time ON audit_log (team_id, created_at DESC);
