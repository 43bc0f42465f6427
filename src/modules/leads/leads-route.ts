import { z } from 'zod';
import { apiRoute } from '../../http/api-route.ts';
import { HttpError } from '../../http/read-json-body.ts';
import type { Route } from '../../http/server.ts';
import type { Services } from '../../services.ts';
import { MAX_LEADS_PER_BATCH, upsertLeads } from './upsert-leads.ts';

export const LEADS_BODY_LIMIT_BYTES = 5 * 1024 * 1024;

const BatchSchema = z.union([
  z.array(z.unknown()),
  z.object({ leads: z.array(z.unknown()) }).transform((body) => body.leads),
]);

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
      const single = typeof body === 'object' && body !== null && !Array.isArray(body) && 'email' in body;
      const batch = single ? [body] : BatchSchema.safeParse(body).data;
      if (!batch) throw new HttpError(400, 'send a lead object with "email", an array of leads, or { "leads": [...] }');
      if (batch.length === 0) throw new HttpError(400, 'the batch is empty');
      if (batch.length > MAX_LEADS_PER_BATCH) throw new HttpError(413, `at most ${MAX_LEADS_PER_BATCH} leads per request; this one has ${batch.length}`);
      const result = await upsertLeads({ sql: services.sql, trackingSecret: services.config.trackingSecret }, teamId, batch, { source: 'api' });
      if (single && result.failed === 1) throw new HttpError(400, 'the lead is invalid', result.errors[0]!.problems);
      return { status: 200, body: result };
    },
  });
}
