import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { VERSION } from '../../src/nurture.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';

describe('GET /healthz', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.stop());

  it('answers 200 with the database and queue status once ready', async () => {
    const response = await fetch(`${app.url}/healthz`);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const body = await response.json();
    expect(body).toMatchObject({
      status: 'ok',
      role: 'all',
      version: VERSION,
      database: { ok: true, latencyMs: expect.any(Number) },
      queue: { ok: true, queues: { 'slack.publish-home': expect.any(Object), 'nurture.dead-letter': expect.any(Object) } },
    });
  });

  it('answers HEAD for load balancers, and 404/405 elsewhere', async () => {
    expect((await fetch(`${app.url}/healthz`, { method: 'HEAD' })).status).toBe(200);
    const wrongMethod = await fetch(`${app.url}/healthz`, { method: 'POST' });
    expect(wrongMethod.status).toBe(405);
    expect(await wrongMethod.json()).toEqual({ error: 'POST is not allowed here' });
    const missing = await fetch(`${app.url}/nope`);
    expect(missing.status).toBe(404);
  });

  it('answers 503 while the database is unreachable', async () => {
    const admin = postgres(inject('databaseAdminUrl'), { max: 1, onnotice: () => {} });
    try {
      await admin.unsafe(`ALTER DATABASE ${app.db.name} ALLOW_CONNECTIONS false`);
      await admin`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ${app.db.name}`;
      const response = await fetch(`${app.url}/healthz`);
      expect(response.status).toBe(503);
      expect(await response.json()).toMatchObject({ status: 'degraded', database: { ok: false, error: expect.any(String) } });
    } finally {
      await admin.unsafe(`ALTER DATABASE ${app.db.name} ALLOW_CONNECTIONS true`);
      await admin.end();
    }
    // And recovers by itself once the database is back.
    expect((await fetch(`${app.url}/healthz`)).status).toBe(200);
  });
});
