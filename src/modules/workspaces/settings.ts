import type { Queryable } from '../../db/client.ts';

/** A workspace's sending settings (/nurture settings); defaults in migrations/0009_delivery.sql. */
export interface WorkspaceSettings {
  teamId: string;
  /** IANA zone for newsletter times and the default for leads without one. */
  timeZone: string;
  /** From name and footer; null: the name in EMAIL_FROM. */
  senderName: string | null;
  /** Footer address; null: marketing sends are refused until it is set. */
  postalAddress: string | null;
  capPerDay: number;
  capPerWeek: number;
  /** Below this many recipients the requester may approve their own newsletter; null: never. */
  selfApprovalBelow: number | null;
  sendExpiryMinutes: number;
}

export type WorkspaceSettingsChange = Partial<Omit<WorkspaceSettings, 'teamId'>>;

interface SettingsRow {
  team_id: string;
  time_zone: string;
  sender_name: string | null;
  postal_address: string | null;
  cap_per_day: number;
  cap_per_week: number;
  self_approval_below: number | null;
  send_expiry_minutes: number;
}

const fromRow = (row: SettingsRow): WorkspaceSettings => ({
  teamId: row.team_id,
  timeZone: row.time_zone,
  senderName: row.sender_name,
  postalAddress: row.postal_address,
  capPerDay: row.cap_per_day,
  capPerWeek: row.cap_per_week,
  selfApprovalBelow: row.self_approval_below,
  sendExpiryMinutes: row.send_expiry_minutes,
});

const SETTINGS_COLUMNS = 'team_id, time_zone, sender_name, postal_address, cap_per_day, cap_per_week, self_approval_below, send_expiry_minutes';

/** The workspace's settings (the defaults for a workspace Slack has not named to us yet). */
export async function getWorkspaceSettings(sql: Queryable, teamId: string): Promise<WorkspaceSettings> {
  const [row] = await sql<SettingsRow[]>`SELECT ${sql.unsafe(SETTINGS_COLUMNS)} FROM workspaces WHERE team_id = ${teamId}`;
  if (row) return fromRow(row);
  await sql`INSERT INTO workspaces (team_id) VALUES (${teamId}) ON CONFLICT (team_id) DO NOTHING`;
  return getWorkspaceSettings(sql, teamId);
}

const COLUMNS: Record<keyof WorkspaceSettingsChange, string> = {
  timeZone: 'time_zone',
  senderName: 'sender_name',
  postalAddress: 'postal_address',
  capPerDay: 'cap_per_day',
  capPerWeek: 'cap_per_week',
  selfApprovalBelow: 'self_approval_below',
  sendExpiryMinutes: 'send_expiry_minutes',
};

const CACHE_MS = 10_000;
const cached = new Map<string, { settings: WorkspaceSettings; until: number }>();

/** Changes the given settings only; returns them all as they now are. */
export async function updateWorkspaceSettings(sql: Queryable, teamId: string, change: WorkspaceSettingsChange): Promise<WorkspaceSettings> {
  const values = Object.fromEntries(
    Object.entries(change)
      .filter(([, value]) => value !== undefined)
      .map(([key, value]) => [COLUMNS[key as keyof WorkspaceSettingsChange], value]),
  );
  if (Object.keys(values).length === 0) return getWorkspaceSettings(sql, teamId);
  await getWorkspaceSettings(sql, teamId);
  const [row] = await sql<SettingsRow[]>`UPDATE workspaces SET ${sql(values)} WHERE team_id = ${teamId} RETURNING ${sql.unsafe(SETTINGS_COLUMNS)}`;
  // This process sees its own change at once; others within CACHE_MS.
  cached.delete(teamId);
  return fromRow(row!);
}

/**
 * The settings as read at most 10 s ago, for hot paths (every send chunk reads the frequency cap): a
 * change reaches every process within that time. Settings screens read them fresh.
 */
export async function recentWorkspaceSettings(sql: Queryable, teamId: string): Promise<WorkspaceSettings> {
  const hit = cached.get(teamId);
  if (hit && hit.until > Date.now()) return hit.settings;
  const settings = await getWorkspaceSettings(sql, teamId);
  cached.set(teamId, { settings, until: Date.now() + CACHE_MS });
  return settings;
}

/**
 * The origins whose pages may report visits through the site snippet (/nurture site; the CORS check of
 * POST /t/v). Kept apart from the sending settings above: they have their own command and audit entry.
 */
export async function getSiteOrigins(sql: Queryable, teamId: string): Promise<string[]> {
  const [row] = await sql<{ site_origins: string[] }[]>`SELECT site_origins FROM workspaces WHERE team_id = ${teamId}`;
  return row?.site_origins ?? [];
}

/** Replaces the allowed origins. */
export async function setSiteOrigins(sql: Queryable, teamId: string, origins: readonly string[]): Promise<void> {
  await getWorkspaceSettings(sql, teamId);
  await sql`UPDATE workspaces SET site_origins = ${origins as string[]}::text[] WHERE team_id = ${teamId}`;
  cachedOrigins.delete(teamId);
}

const cachedOrigins = new Map<string, { origins: string[]; until: number }>();

/** The origins as read at most 10 s ago: every visit checks them, and a change reaches every process within that time. */
export async function recentSiteOrigins(sql: Queryable, teamId: string): Promise<string[]> {
  const hit = cachedOrigins.get(teamId);
  if (hit && hit.until > Date.now()) return hit.origins;
  const origins = await getSiteOrigins(sql, teamId);
  cachedOrigins.set(teamId, { origins, until: Date.now() + CACHE_MS });
  if (cachedOrigins.size > 10_000) cachedOrigins.delete(cachedOrigins.keys().next().value!);
  return origins;
}
