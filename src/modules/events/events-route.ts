import { z } from 'zod';
import { apiRoute } from '../../http/api-route.ts';
import { HttpError } from '../../http/read-json-body.ts';
import type { Route } from '../../http/server.ts';
import type { Services } from '../../services.ts';
import { MAX_EVENTS_PER_BATCH, recordEvents } from './record-events.ts';

const BatchSchema = z.union([z.array(z.unknown()), z.object({ events: z.array(z.unknown()) }).transform((body) => body.events)]);

/**
 * POST /api/v1/events — one event (`{ email, name, properties?, occurred_at?, id?, lead? }`) or a batch
 * (an array, or { "events": [...] }) of up to 1,000. A `page_view` with properties.url is a website visit.
 */
export function eventsRoute(services: Services): Route {
  return apiRoute(services, {
    path: '/api/v1/events',
    limitBytes: 5 * 1024 * 1024,
    async handle({ teamId, body }) {
      const single = typeof body === 'object' && body !== null && !Array.isArray(body) && 'name' in body;
      const batch = single ? [body] : BatchSchema.safeParse(body).data;
      if (!batch) throw new HttpError(400, 'send an event object with "email" and "name", an array of events, or { "events": [...] }');
      if (batch.length === 0) throw new HttpError(400, 'the batch is empty');
      if (batch.length > MAX_EVENTS_PER_BATCH) throw new HttpError(413, `at most ${MAX_EVENTS_PER_BATCH} events per request; this one has ${batch.length}`);
      const result = await recordEvents({ sql: services.sql, trackingSecret: services.config.trackingSecret }, teamId, batch, { source: 'api' });
      if (single && result.failed === 1) throw new HttpError(400, 'the event is invalid', result.errors[0]!.problems);
      return { status: 200, body: result };
    },
  });
}
