import type { Sql } from '../../db/client.ts';
import { upsertLeads } from '../leads/upsert-leads.ts';
import { importCsvInBatches, type ImportCsvOptions, type ImportSummary } from './import-csv-in-batches.ts';
import { emailsWithConsent } from './queries.ts';

/** What the person importing confirmed about everyone in the file. */
export interface ImportConsent {
  /** ISO 8601: when they confirmed (kept in the job, so a retry records the same moment). */
  at: string;
  /** e.g. "csv import by <@U123> (leads.csv)". */
  source: string;
}

export interface ImportLeadsCsvOptions extends Pick<ImportCsvOptions, 'onProgress' | 'signal' | 'maxErrors'> {
  /** `source` of new leads whose row names none. */
  source: string;
  consent?: ImportConsent;
}

/** Two batches in flight: one validates (CPU) while the other waits on Postgres. */
const WRITES_IN_FLIGHT = 2;
const DEADLOCK_RETRIES = 3;
const DEADLOCK_DETECTED = '40P01';

/**
 * Imports a CSV straight into the database, 1,000 rows per upsertLeads call. Two concurrent batches
 * holding the same addresses in opposite orders can deadlock; Postgres then aborts one, which is
 * retried (its transaction rolled back whole, so nothing is counted twice).
 */
export async function importLeadsCsv(
  deps: { sql: Sql; trackingSecret: string },
  teamId: string,
  input: AsyncIterable<Uint8Array>,
  options: ImportLeadsCsvOptions,
): Promise<ImportSummary> {
  return importCsvInBatches(
    input,
    async (leads) => {
      for (let attempt = 0; ; attempt += 1) {
        try {
          const items = options.consent ? await withConsent(deps.sql, teamId, leads, options.consent) : leads;
          return await upsertLeads(deps, teamId, items, { source: options.source });
        } catch (error) {
          if ((error as { code?: unknown }).code !== DEADLOCK_DETECTED || attempt >= DEADLOCK_RETRIES) throw error;
        }
      }
    },
    { maxInFlight: WRITES_IN_FLIGHT, onProgress: options.onProgress, signal: options.signal, maxErrors: options.maxErrors },
  );
}

/**
 * The confirmation covers everyone in the file, so leads without a consent record get this one. A
 * lead that already has one keeps it: the earlier record is the better evidence of when and how they
 * agreed. Rows with their own consent columns keep those.
 */
async function withConsent(sql: Sql, teamId: string, leads: Array<Record<string, unknown>>, consent: ImportConsent) {
  const emailOf = (lead: Record<string, unknown>) => (typeof lead.email === 'string' ? lead.email.trim().toLowerCase() : undefined);
  const recorded = await emailsWithConsent(sql, teamId, leads.map(emailOf).filter((email): email is string => email !== undefined));
  return leads.map((lead) => {
    const email = emailOf(lead);
    if (lead.consent_at !== undefined || lead.consent_source !== undefined || (email !== undefined && recorded.has(email))) return lead;
    return { ...lead, consent_at: consent.at, consent_source: consent.source };
  });
}
