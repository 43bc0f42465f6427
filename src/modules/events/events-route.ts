import { apiRoute, readBatch } from '../../http/api-route.ts';
import { HttpError } from '../../http/read-json-body.ts';
import type { Route } from '../../http/server.ts';
import type { Services } from '../../services.ts';
import { MAX_EVENTS_PER_BATCH, recordEvents } from './record-events.ts';

/**
 * POST /api/v1/events — one event (`{ email, name, properties?, occurred_at?, id?, lead? }`) or a batch
 * (an array, or { "events": [...] }) of up to 1,000. A `page_view` with properties.url is a website visit.
 */
export function eventsRoute(services: Services): Route {
  return apiRoute(services, {
    path: '/api/v1/events',
    limitBytes: 5 * 1024 * 1024,
    async handle({ teamId, body }) {
      const { items, single } = readBatch(body, { noun: 'event', listKey: 'events', marker: 'name', max: MAX_EVENTS_PER_BATCH });
      const result = await recordEvents(services, teamId, items, { source: 'api' });
      if (single && result.failed === 1) throw new HttpError(400, 'the event is invalid', result.errors[0]!.problems);
      return { status: 200, body: result };
    },
  });
}
