import type { Services } from '../../services.ts';
import { hashEmail } from '../leads/email-hash.ts';
import { describeIssues } from '../leads/lead-input.ts';
import { ensureLeads, forgottenHashes, hasForgottenEmails } from '../leads/queries.ts';
import { FORGOTTEN_ADDRESS_PROBLEM, upsertLeads, type LeadItemError } from '../leads/upsert-leads.ts';
import { enqueueScoring } from '../scoring/score-events-queue.ts';
import { reactToEvents } from '../sequences/react-to-events.ts';
import { EventInputSchema, eventKind, urlPath, type EventInput } from './event-input.ts';
import { storeEvents, type EventRecord } from './queries.ts';

export const MAX_EVENTS_PER_BATCH = 1000;

export interface RecordEventsResult {
  received: number;
  recorded: number;
  /** Already stored earlier (same id and time): a retried delivery. */
  duplicates: number;
  leads_created: number;
  failed: number;
  errors: LeadItemError[];
}

/**
 * Stores behaviour events on their leads. An unknown address becomes a lead (behaviour is how leads
 * arrive: a download form, a webinar sign-up), unless it was erased with /nurture forget.
 */
export async function recordEvents(
  services: Services,
  teamId: string,
  items: readonly unknown[],
  options: { source: string },
): Promise<RecordEventsResult> {
  if (items.length > MAX_EVENTS_PER_BATCH) throw new RangeError(`at most ${MAX_EVENTS_PER_BATCH} events per batch`);
  const deps = { sql: services.sql, trackingSecret: services.config.trackingSecret };
  const errors: LeadItemError[] = [];
  let valid: Array<{ index: number; event: EventInput }> = [];
  items.forEach((item, index) => {
    const parsed = EventInputSchema.safeParse(item);
    if (parsed.success) valid.push({ index, event: parsed.data });
    else errors.push({ index, email: (item as { email?: string })?.email, problems: describeIssues(parsed.error.issues, item) });
  });

  if (valid.length > 0 && (await hasForgottenEmails(deps.sql, teamId))) {
    const hashes = new Map(valid.map(({ event }) => [event.email, hashEmail(deps.trackingSecret, event.email).toString('hex')]));
    const forgotten = await forgottenHashes(deps.sql, teamId, [...new Set(hashes.values())].map((hex) => Buffer.from(hex, 'hex')));
    valid = valid.filter(({ index, event }) => {
      if (!forgotten.has(hashes.get(event.email)!)) return true;
      errors.push({ index, email: event.email, problems: [FORGOTTEN_ADDRESS_PROBLEM] });
      return false;
    });
  }

  // Lead details carried by events (e.g. a form's name and company) are applied like an API upsert.
  const withDetails = valid.filter(({ event }) => event.lead);
  let leadsCreated = 0;
  if (withDetails.length > 0) {
    const upserted = await upsertLeads(deps, teamId, withDetails.map(({ event }) => ({ ...event.lead, email: event.email })), options);
    leadsCreated += upserted.created;
    const failedIndexes = new Set(upserted.errors.map((error) => withDetails[error.index]!.index));
    for (const error of upserted.errors) errors.push({ ...error, index: withDetails[error.index]!.index, problems: error.problems.map((problem) => `lead: ${problem}`) });
    valid = valid.filter(({ index }) => !failedIndexes.has(index));
  }

  const { ids, created } = await ensureLeads(deps.sql, teamId, [...new Set(valid.map(({ event }) => event.email))], options.source);
  leadsCreated += created;
  const receivedAt = new Date().toISOString();
  const records: EventRecord[] = valid.map(({ event }) => ({
    lead_id: ids.get(event.email)!,
    kind: eventKind(event.name),
    name: event.name,
    properties: event.properties,
    url_path: eventKind(event.name) === 'web' ? urlPath(String(event.properties.url)) : null,
    dedupe_key: event.id ?? null,
    occurred_at: event.occurred_at ?? receivedAt,
  }));
  const stored = await storeEvents(deps.sql, teamId, options.source, records);
  const recorded = stored.length;
  // Sequences that start or end on these events (a download, a demo request) react in a queue.
  await reactToEvents(services, teamId, records);
  // Scores count each event once: a retried delivery's repeats are not scored again.
  await enqueueScoring(services, teamId, stored);

  errors.sort((a, b) => a.index - b.index);
  return {
    received: items.length,
    recorded,
    duplicates: records.length - recorded,
    leads_created: leadsCreated,
    failed: errors.length,
    errors,
  };
}
