import type { Queryable } from '../../db/client.ts';

/** Of these (normalised) addresses, the leads that already have a consent record: an import must not replace it. */
export async function emailsWithConsent(sql: Queryable, teamId: string, emails: readonly string[]): Promise<Set<string>> {
  if (emails.length === 0) return new Set();
  const rows = await sql<{ email: string }[]>`
    SELECT email FROM leads WHERE team_id = ${teamId} AND email = ANY(${emails as string[]}) AND consent_at IS NOT NULL`;
  return new Set(rows.map((row) => row.email));
}
