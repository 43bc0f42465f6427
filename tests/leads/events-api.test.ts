import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, type ApiClient } from '../support/api-client.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';

let app: TestApp;
let api: ApiClient;
beforeAll(async () => {
  app = await startTestApp();
  api = await apiClient(app);
});
afterAll(() => app.stop());

const eventsOf = (email: string) => app.db.sql`
  SELECT e.kind, e.name, e.properties, e.url_path, e.source, e.occurred_at, e.verdict
  FROM events e JOIN leads l ON l.id = e.lead_id
  WHERE l.team_id = ${app.slack.teamId} AND l.email = ${email} ORDER BY e.occurred_at`;

describe('POST /api/v1/events', () => {
  it('records a download from a new address, creating the lead with the details the form knew', async () => {
    const response = await api.post('/api/v1/events', {
      email: 'Ken@Factory.example',
      name: 'resource_download',
      properties: { asset: 'whitepaper-x' },
      occurred_at: '2026-11-20T10:00:00Z',
      lead: { first_name: 'Ken', company: 'Factory KK', industry: 'manufacturing' },
    });
    expect(response.status).toBe(200);
    expect(response.json).toMatchObject({ received: 1, recorded: 1, duplicates: 0, leads_created: 1, failed: 0 });
    const [lead] = await app.db.sql`SELECT first_name, company, industry, source FROM leads WHERE email = 'ken@factory.example'`;
    expect(lead).toEqual({ first_name: 'Ken', company: 'Factory KK', industry: 'manufacturing', source: 'api' });
    expect(await eventsOf('ken@factory.example')).toEqual([
      { kind: 'custom', name: 'resource_download', properties: { asset: 'whitepaper-x' }, url_path: null, source: 'api', occurred_at: new Date('2026-11-20T10:00:00Z'), verdict: null },
    ]);
  });

  it('treats page_view with a URL as a website visit and keeps its path', async () => {
    await api.post('/api/v1/events', [
      { email: 'ken@factory.example', name: 'page_view', properties: { url: 'https://www.example.com/pricing/?utm_source=mail', title: 'Pricing' } },
      { email: 'ken@factory.example', name: 'page_view', properties: { url: 'https://www.example.com/' } },
    ]);
    const visits = (await eventsOf('ken@factory.example')).filter((event) => event.kind === 'web');
    expect(visits.map((visit) => visit.url_path).sort()).toEqual(['/', '/pricing']);
  });

  it('stores a retried event with the same id only once', async () => {
    const event = { email: 'ken@factory.example', name: 'webinar_attended', id: 'zoom-123', occurred_at: '2026-11-21T08:00:00Z' };
    expect((await api.post('/api/v1/events', event)).json).toMatchObject({ recorded: 1, duplicates: 0 });
    expect((await api.post('/api/v1/events', event)).json).toMatchObject({ recorded: 0, duplicates: 1 });
  });

  it('names every problem of bad events and records the good ones', async () => {
    const response = await api.post('/api/v1/events', {
      events: [
        { email: 'ok@example.com', name: 'demo_requested' },
        { email: 'ok@example.com', name: 'email_opened' },
        { email: 'ok@example.com', name: 'page_view', properties: { url: 'javascript:alert(1)' } },
        { email: 'ok@example.com', name: 'has spaces', occurred_at: '2099-01-01T00:00:00Z' },
        { email: 'ok@example.com', name: 'x', properties: 'not an object', color: 'red' },
        { name: 'no_email' },
        { email: 'ok@example.com', name: 'form_submitted', lead: { stage: 'hot' } },
      ],
    });
    expect(response.json).toMatchObject({ received: 7, recorded: 1, failed: 6 });
    expect(response.json.errors).toEqual([
      { index: 1, email: 'ok@example.com', problems: ['names starting with "email_" are recorded by Nurture itself'] },
      { index: 2, email: 'ok@example.com', problems: ['properties.url: page_view needs properties.url, the http(s) address of the page'] },
      {
        index: 3,
        email: 'ok@example.com',
        problems: ['name must be a short identifier such as resource_download or page_view', 'occurred_at is more than a day in the future'],
      },
      { index: 4, email: 'ok@example.com', problems: expect.arrayContaining(['unknown field color (custom data goes in "attributes")', 'properties must be an object']) },
      { index: 5, problems: ['email is required'] },
      { index: 6, email: 'ok@example.com', problems: ['lead.stage: stage must be one of awareness, consideration, decision, customer'] },
    ]);
  });

  it('a single invalid event answers 400 with its problems', async () => {
    const response = await api.post('/api/v1/events', { email: 'ok@example.com', name: 'page_view' });
    expect(response.status).toBe(400);
    expect(response.json).toEqual({ error: 'the event is invalid', problems: ['properties.url: page_view needs properties.url, the http(s) address of the page'] });
  });
});
