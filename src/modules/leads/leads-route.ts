import { apiRoute, readBatch } from '../../http/api-route.ts';
import { HttpError } from '../../http/read-json-body.ts';
import type { Route } from '../../http/server.ts';
import type { Services } from '../../services.ts';
import { MAX_LEADS_PER_BATCH, upsertLeads } from './upsert-leads.ts';

export const LEADS_BODY_LIMIT_BYTES = 5 * 1024 * 1024;

/**
 * POST /api/v1/leads — one lead (an object with "email") or a batch (an array, or { "leads": [...] })
 * of up to 1,000, upserted by email. A batch answers 200 with counts and a per-item error list; a
 * single lead that is invalid answers 400 naming each problem.
 */
export function leadsRoute(services: Services): Route {
  return apiRoute(services, {
    path: '/api/v1/leads',
    limitBytes: LEADS_BODY_LIMIT_BYTES,
    async handle({ teamId, body }) {
      const { items, single } = readBatch(body, { noun: 'lead', listKey: 'leads', marker: 'email', max: MAX_LEADS_PER_BATCH });
      const result = await upsertLeads({ sql: services.sql, trackingSecret: services.config.trackingSecret }, teamId, items, { source: 'api' });
      if (single && result.failed === 1) throw new HttpError(400, 'the lead is invalid', result.errors[0]!.problems);
      return { status: 200, body: result };
    },
  });
}
