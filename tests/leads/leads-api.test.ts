import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, clientWithKey, type ApiClient } from '../support/api-client.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';

let app: TestApp;
let api: ApiClient;
beforeAll(async () => {
  app = await startTestApp();
  api = await apiClient(app);
});
afterAll(() => app.stop());

const leadRow = async (email: string) => {
  const [row] = await app.db.sql`SELECT * FROM leads WHERE team_id = ${app.slack.teamId} AND email = ${email}`;
  return row;
};

describe('POST /api/v1/leads', () => {
  it('refuses a missing, malformed or unknown key with 401', async () => {
    for (const authorization of [undefined, 'Basic abc', 'Bearer nurture_wrong', `Bearer nurture_${'A'.repeat(43)}`]) {
      const response = await fetch(`${app.url}/api/v1/leads`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
        body: JSON.stringify({ email: 'a@example.com' }),
      });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer');
      expect(((await response.json()) as { error: string }).error).toMatch(/API key/);
    }
    expect(await leadRow('a@example.com')).toBeUndefined();
  });

  it('creates one lead, then reports it unchanged, then updated, matching the address case-insensitively', async () => {
    const lead = { email: 'Yui.Sato@Example.co.jp', first_name: '結衣', last_name: '佐藤', company: '株式会社テスト', stage: 'consideration', time_zone: 'Asia/Tokyo', locale: 'ja-jp' };
    const first = await api.post('/api/v1/leads', lead);
    expect(first.json).toMatchObject({ received: 1, created: 1, updated: 0, unchanged: 0, failed: 0, errors: [] });
    expect((await api.post('/api/v1/leads', { ...lead, email: 'yui.sato@example.co.jp' })).json).toMatchObject({ created: 0, updated: 0, unchanged: 1 });
    expect((await api.post('/api/v1/leads', { email: 'YUI.SATO@EXAMPLE.CO.JP', title: 'CTO' })).json).toMatchObject({ created: 0, updated: 1 });
    expect(await leadRow('yui.sato@example.co.jp')).toMatchObject({
      first_name: '結衣',
      last_name: '佐藤',
      company: '株式会社テスト',
      title: 'CTO',
      stage: 'consideration',
      time_zone: 'Asia/Tokyo',
      locale: 'ja-JP',
      status: 'subscribed',
      source: 'api',
    });
  });

  it('keeps what is not given, merges attributes (null removes one) and never re-subscribes', async () => {
    await api.post('/api/v1/leads', { email: 'keep@example.com', company: 'Acme', attributes: { plan: 'pro', seats: 12 } });
    await api.post('/api/v1/leads', { email: 'keep@example.com', company: '', title: null, attributes: { seats: 15, plan: null, region: 'EMEA' }, status: 'unsubscribed' });
    expect(await leadRow('keep@example.com')).toMatchObject({ company: 'Acme', attributes: { seats: 15, region: 'EMEA' }, status: 'unsubscribed' });
    expect((await api.post('/api/v1/leads', { email: 'keep@example.com', status: 'subscribed' })).json).toMatchObject({ unchanged: 1 });
    expect((await leadRow('keep@example.com'))?.status).toBe('unsubscribed');
  });

  it('imports the good items of a batch and names every problem of the bad ones by index', async () => {
    const response = await api.post('/api/v1/leads', {
      leads: [
        { email: 'ok1@example.com', industry: 'manufacturing' },
        { email: 'not-an-address', stage: 'ready', time_zone: 'Mars/Olympus', extra: 1 },
        { email: 'ok2@example.com', owner: 'U024BE7LH', consent_at: '2026-11-01T09:00:00Z', consent_source: 'webinar' },
        { first_name: 'No Email' },
        { email: 'bad3@example.com', locale: 'not a locale!!', owner: 'alex', attributes: { nested: { no: true } }, status: 'bounced', consent_at: 'yesterday', first_name: 'x'.repeat(101) },
      ],
    });
    expect(response.status).toBe(200);
    expect(response.json).toMatchObject({ received: 5, created: 2, updated: 0, unchanged: 0, failed: 3 });
    expect(response.json.errors).toEqual([
      {
        index: 1,
        email: 'not-an-address',
        problems: expect.arrayContaining([
          'unknown field extra (custom data goes in "attributes")',
          'email is not a valid address',
          'stage must be one of awareness, consideration, decision, customer',
          'time_zone must be an IANA time zone such as Asia/Tokyo or Europe/Berlin',
        ]),
      },
      { index: 3, problems: ['email is required'] },
      {
        index: 4,
        email: 'bad3@example.com',
        problems: expect.arrayContaining([
          'first_name is longer than 100 characters',
          'locale must be a language tag such as ja-JP or en-US',
          'owner must be a Slack user id such as U024BE7LH',
          'attributes.nested: attribute values must be text, numbers, true/false or null',
          'status may only be set to subscribed or unsubscribed',
          'consent_at must be an ISO 8601 time such as 2026-11-27T09:00:00Z',
        ]),
      },
    ]);
    expect(response.json.errors[0].problems).toHaveLength(4);
    expect(await leadRow('ok2@example.com')).toMatchObject({ owner_user_id: 'U024BE7LH', consent_source: 'webinar' });
    expect(await leadRow('bad3@example.com')).toBeUndefined();
  });

  it('merges the same address twice in one batch', async () => {
    const response = await api.post('/api/v1/leads', [
      { email: 'twice@example.com', company: 'First', attributes: { a: 1 } },
      { email: 'TWICE@example.com', title: 'VP Sales', attributes: { b: 2 } },
    ]);
    expect(response.json).toMatchObject({ received: 2, created: 1, failed: 0 });
    expect(await leadRow('twice@example.com')).toMatchObject({ company: 'First', title: 'VP Sales', attributes: { a: 1, b: 2 } });
  });

  it('refuses bodies it cannot read, with a reason', async () => {
    const badJson = await api.post('/api/v1/leads', undefined, { raw: '{"email": ' });
    expect(badJson.status).toBe(400);
    expect(badJson.json.error).toMatch(/^the body is not valid JSON/);
    const wrongType = await api.post('/api/v1/leads', undefined, { raw: 'email=a@b.c', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(wrongType.status).toBe(415);
    expect((await api.post('/api/v1/leads', [])).json).toEqual({ error: 'the batch is empty' });
    expect((await api.post('/api/v1/leads', 'a@b.c')).status).toBe(400);
    const tooMany = await api.post('/api/v1/leads', Array.from({ length: 1001 }, (_, i) => ({ email: `n${i}@example.com` })));
    expect(tooMany.status).toBe(413);
    expect(tooMany.json.error).toBe('at most 1000 leads per request; this one has 1001');
    const tooBig = await api.post('/api/v1/leads', [{ email: 'big@example.com', attributes: { blob: 'x'.repeat(6 * 1024 * 1024) } }]);
    expect(tooBig.status).toBe(413);
    expect(await leadRow('big@example.com')).toBeUndefined();
  });

  it('a single invalid lead answers 400 naming each problem', async () => {
    const response = await api.post('/api/v1/leads', { email: 'single@example.com', stage: 'hot' });
    expect(response.status).toBe(400);
    expect(response.json).toEqual({ error: 'the lead is invalid', problems: ['stage must be one of awareness, consideration, decision, customer'] });
  });

  it('keeps workspaces apart: the same address is a separate lead in another workspace', async () => {
    const other = await apiClient(app, 'T0OTHER');
    await other.post('/api/v1/leads', { email: 'shared@example.com', company: 'Other Co' });
    await api.post('/api/v1/leads', { email: 'shared@example.com', company: 'Our Co' });
    const rows = await app.db.sql`SELECT team_id, company FROM leads WHERE email = 'shared@example.com' ORDER BY team_id`;
    expect(rows).toEqual([
      { team_id: 'T0OTHER', company: 'Other Co' },
      { team_id: app.slack.teamId, company: 'Our Co' },
    ].sort((a, b) => a.team_id.localeCompare(b.team_id)));
    // A key only ever reaches its own workspace.
    expect((await clientWithKey(app, other.key).post('/api/v1/leads', { email: 'shared@example.com', company: 'Sneaky' })).json).toMatchObject({ updated: 1 });
    expect((await leadRow('shared@example.com'))?.company).toBe('Our Co');
  });
});
