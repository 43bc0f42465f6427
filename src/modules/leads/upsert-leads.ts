import type { Sql } from '../../db/client.ts';
import { hashEmail } from './email-hash.ts';
import { describeIssues, LeadInputSchema, type LeadInput } from './lead-input.ts';
import { existingLeadIds, forgottenHashes, hasForgottenEmails, insertLeads, updateLeads } from './queries.ts';

export const MAX_LEADS_PER_BATCH = 1000;

export const FORGOTTEN_ADDRESS_PROBLEM = 'this address was erased at the person’s request (/nurture forget) and cannot be added again';

export interface LeadItemError {
  /** Position in the batch (0-based); CSV import turns it into a row number. */
  index: number;
  email?: string;
  problems: string[];
}

export interface UpsertLeadsResult {
  received: number;
  created: number;
  updated: number;
  unchanged: number;
  failed: number;
  errors: LeadItemError[];
}

/**
 * Validates a batch of leads and writes the good ones in a few set-based statements: existing leads
 * are updated with what was given, new ones inserted. Bad items and erased addresses are reported
 * per item and never block the rest.
 */
export async function upsertLeads(
  deps: { sql: Sql; trackingSecret: string },
  teamId: string,
  items: readonly unknown[],
  options: { source: string },
): Promise<UpsertLeadsResult> {
  if (items.length > MAX_LEADS_PER_BATCH) throw new RangeError(`at most ${MAX_LEADS_PER_BATCH} leads per batch`);
  const errors: LeadItemError[] = [];
  // The same address twice in one batch: later values win, attributes merge.
  const byEmail = new Map<string, { lead: LeadInput; index: number }>();
  items.forEach((item, index) => {
    const parsed = LeadInputSchema.safeParse(item);
    if (!parsed.success) {
      const email = typeof (item as { email?: unknown })?.email === 'string' ? (item as { email: string }).email : undefined;
      errors.push({ index, email, problems: describeIssues(parsed.error.issues, item) });
      return;
    }
    const earlier = byEmail.get(parsed.data.email);
    byEmail.set(parsed.data.email, { index, lead: earlier ? mergeLeads(earlier.lead, parsed.data) : parsed.data });
  });

  if (byEmail.size > 0 && (await hasForgottenEmails(deps.sql, teamId))) {
    const hashes = new Map([...byEmail.keys()].map((email) => [email, hashEmail(deps.trackingSecret, email)]));
    const forgotten = await forgottenHashes(deps.sql, teamId, [...hashes.values()]);
    for (const [email, entry] of byEmail) {
      if (forgotten.has(hashes.get(email)!.toString('hex'))) {
        errors.push({ index: entry.index, email, problems: [FORGOTTEN_ADDRESS_PROBLEM] });
        byEmail.delete(email);
      }
    }
  }

  // One lock order for every writer (by address, then by id): two batches sharing addresses wait for
  // each other instead of deadlocking.
  const leads = [...byEmail.values()].map((entry) => entry.lead).sort((a, b) => (a.email < b.email ? -1 : a.email > b.email ? 1 : 0));
  const { created, updated, unchanged } = await deps.sql.begin(async (tx) => {
    const emails = leads.map((lead) => lead.email);
    let ids = await existingLeadIds(tx, teamId, emails);
    const fresh = leads.filter((lead) => !ids.has(lead.email));
    const inserted = new Set(await insertLeads(tx, teamId, fresh, options.source));
    // A lead created by someone else between our read and our insert is updated instead.
    if (inserted.size < fresh.length) ids = await existingLeadIds(tx, teamId, emails);
    const toUpdate = leads
      .filter((lead) => !inserted.has(lead.email) && ids.has(lead.email))
      .map((lead) => ({ ...lead, id: ids.get(lead.email)! }))
      .sort((a, b) => a.id - b.id);
    const changed = await updateLeads(tx, teamId, toUpdate);
    return { created: inserted.size, updated: changed, unchanged: toUpdate.length - changed };
  });

  errors.sort((a, b) => a.index - b.index);
  return { received: items.length, created, updated, unchanged, failed: errors.length, errors };
}

function mergeLeads(earlier: LeadInput, later: LeadInput): LeadInput {
  const definedLater = Object.fromEntries(Object.entries(later).filter(([, value]) => value !== undefined));
  return { ...earlier, ...definedLater, attributes: earlier.attributes || later.attributes ? { ...earlier.attributes, ...later.attributes } : undefined } as LeadInput;
}
