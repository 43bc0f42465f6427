import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_RETENTION_MONTHS, maintainPartitionsQueue, MONTHS_CREATED_AHEAD } from '../../src/modules/events/maintain-partitions-queue.ts';
import { apiClient, type ApiClient } from '../support/api-client.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';

let app: TestApp;
let api: ApiClient;
beforeAll(async () => {
  app = await startTestApp();
  api = await apiClient(app);
});
afterAll(() => app.stop());

const monthName = (date: Date) => `events_${date.getUTCFullYear()}_${String(date.getUTCMonth() + 1).padStart(2, '0')}`;
const monthsFromNow = (months: number) => {
  const now = new Date();
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + months, 15));
};
const partitions = async () =>
  (await app.db.sql<{ name: string }[]>`
    SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
    WHERE p.relname = 'events' ORDER BY 1`).map((row) => row.name);

describe('event partitions and retention', () => {
  it('has monthly partitions for the retention window and the coming months', async () => {
    const names = await partitions();
    expect(names).toContain(monthName(monthsFromNow(0)));
    expect(names).toContain(monthName(monthsFromNow(MONTHS_CREATED_AHEAD)));
    expect(names).toContain(monthName(monthsFromNow(-EVENT_RETENTION_MONTHS)));
    expect(names).toContain('events_default');
  });

  it('the daily job drops months past retention and old rows in the default partition, keeping recent events', async () => {
    // An old month (as if the app had run for years) with an event in it, and history older than any month.
    await app.db.sql`SELECT ensure_event_partitions(${monthsFromNow(-30)}::date, 0)`;
    await api.post('/api/v1/events', [
      { email: 'old@example.com', name: 'resource_download', occurred_at: monthsFromNow(-29).toISOString() },
      { email: 'old@example.com', name: 'webinar_attended', occurred_at: monthsFromNow(-40).toISOString() },
      { email: 'old@example.com', name: 'demo_requested', occurred_at: monthsFromNow(-1).toISOString() },
    ]);
    expect(await partitions()).toContain(monthName(monthsFromNow(-30)));

    await maintainPartitionsQueue.handle({}, { services: app.nurture.services, jobId: 'test', retryCount: 0, signal: new AbortController().signal });

    const names = await partitions();
    expect(names).not.toContain(monthName(monthsFromNow(-30)));
    expect(names).not.toContain(monthName(monthsFromNow(-EVENT_RETENTION_MONTHS - 1)));
    expect(names).toContain(monthName(monthsFromNow(-EVENT_RETENTION_MONTHS + 1)));
    const left = await app.db.sql<{ name: string }[]>`SELECT name FROM events ORDER BY occurred_at`;
    expect(left.map((row) => row.name)).toEqual(['demo_requested']);
  });

  it('is scheduled daily by the worker processes', async () => {
    const schedules = await app.nurture.services.sql`SELECT name, cron FROM pgboss.schedule WHERE name = ${maintainPartitionsQueue.name}`;
    expect(schedules).toEqual([{ name: 'events.maintain-partitions', cron: '17 3 * * *' }]);
  });
});
