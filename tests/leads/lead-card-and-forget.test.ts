import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActionIds } from '../../src/slack/ids.ts';
import { apiClient, type ApiClient } from '../support/api-client.ts';
import { insertSend } from '../support/factories.ts';
import { replyText } from '../support/slack-replies.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';

let app: TestApp;
let api: ApiClient;
const say = async (userId: string, text: string) => replyText((await app.command(userId, text)).reply.body);

beforeAll(async () => {
  app = await startTestApp();
  api = await apiClient(app);
  app.addUser({ id: 'U0ADMIN', isOwner: true });
  app.addUser({ id: 'U0REP' });
  app.addUser({ id: 'U0NOBODY' });
  await app.command('U0ADMIN', 'roles add <@U0REP|rep> rep');
  await api.post('/api/v1/leads', {
    email: 'hanako@kojo.example',
    first_name: '花子',
    last_name: '山田',
    company: '株式会社工場 <@here>',
    title: '製造部長',
    industry: 'manufacturing',
    stage: 'consideration',
    owner: 'U0REP',
    time_zone: 'Asia/Tokyo',
    attributes: { plant_count: 4 },
  });
  await api.post('/api/v1/events', [
    { email: 'hanako@kojo.example', name: 'resource_download', properties: { asset: 'whitepaper-x' }, occurred_at: new Date(Date.now() - 3 * 86_400_000).toISOString() },
    { email: 'hanako@kojo.example', name: 'page_view', properties: { url: 'https://example.com/pricing' }, occurred_at: new Date(Date.now() - 2 * 3_600_000).toISOString() },
  ]);
});
afterAll(() => app.stop());

describe('/nurture lead', () => {
  it('shows the lead card with attributes, stage, status, owner and recent activity, newest first', async () => {
    const { reply } = await app.command('U0REP', 'lead <mailto:hanako@kojo.example|hanako@kojo.example>');
    const text = replyText(reply.body);
    const body = JSON.stringify(reply.body);
    expect(body).toContain('山田');
    expect(text).toContain('*Buying stage*\nconsideration');
    expect(text).toContain(':large_green_circle: subscribed');
    expect(body).toContain('<@U0REP>');
    expect(text).toContain('plant_count: 4');
    // Lead data is shown as text, never as Slack markup.
    expect(body).toContain('株式会社工場 &lt;@here&gt;');
    expect(text).toMatch(/visited \/pricing — 2 h ago\n• resource_download \(asset=whitepaper-x\) — 3 days ago/);
  });

  it('says when there is no such lead, or the address is not one', async () => {
    expect(await say('U0REP', 'lead nobody@example.com')).toBe('There is no lead with the address nobody@example.com.');
    expect(await say('U0REP', 'lead hanako')).toBe('"hanako" is not an email address. Try `/nurture lead <email>`.');
  });

  it('is not visible from another workspace', async () => {
    const { reply } = await app.command('U0ADMIN', 'lead hanako@kojo.example', { teamId: 'T0OTHERTEAM' });
    expect(replyText(reply.body)).toBe('There is no lead with the address hanako@kojo.example.');
  });

  it('is not shown to people without a Nurture role', async () => {
    expect(await say('U0NOBODY', 'lead hanako@kojo.example')).toMatch(/^Looking at leads needs one of these roles: \*marketer\*, \*rep\*/);
  });
});

describe('/nurture forget', () => {
  const clickErase = async (userId: string, email: string) =>
    replyText((await app.clickMessageButton(userId, { actionId: ActionIds.leadForgetConfirm, value: email })).body);

  it('asks an admin to confirm, and only a rep’s click is refused', async () => {
    const { reply } = await app.command('U0ADMIN', 'forget hanako@kojo.example');
    expect(JSON.stringify(reply.body)).toContain(ActionIds.leadForgetConfirm);
    expect(replyText(reply.body)).toContain('It cannot be undone');
    expect(await say('U0REP', 'forget hanako@kojo.example')).toMatch(/^Erasing a person needs the \*admin\* role/);
    expect(await clickErase('U0REP', 'hanako@kojo.example')).toMatch(/^Erasing a person needs the \*admin\* role/);
    const [lead] = await app.db.sql`SELECT count(*)::int AS n FROM leads WHERE email = 'hanako@kojo.example'`;
    expect(lead?.n).toBe(1);
  });

  it('erases the lead and its events on confirmation, keeping only a hash', async () => {
    await app.db.sql`
      INSERT INTO outbox_emails (team_id, idempotency_key, batch_index, batch_hash, message_id, from_address, to_address, subject, html_body, text_body)
      VALUES (${app.slack.teamId}, 'k1', 0, '\\x00', gen_random_uuid(), 'news@test.example', 'hanako@kojo.example', 'Hi', '<p>Hi</p>', 'Hi')`;
    const [hanako] = await app.db.sql<{ id: number }[]>`SELECT id FROM leads WHERE email = 'hanako@kojo.example'`;
    await insertSend(app.db.sql, app.slack.teamId, hanako!.id);
    const webhook = (to: string) => app.db.sql.json({ type: 'email.delivered', data: { email_id: 'e1', to: [to] } } as never);
    await app.db.sql`
      INSERT INTO resend_webhooks (svix_id, team_id, event_type, payload)
      VALUES ('msg_hanako', ${app.slack.teamId}, 'email.delivered', ${webhook('Hanako@Kojo.example')}),
             ('msg_other', ${app.slack.teamId}, 'email.delivered', ${webhook('taro@kojo.example')})`;
    expect(await clickErase('U0ADMIN', 'hanako@kojo.example')).toBe(
      'hanako@kojo.example is erased: the lead and all its activity are gone, and the address will be refused from now on.',
    );
    const [counts] = await app.db.sql`
      SELECT (SELECT count(*)::int FROM leads WHERE email = 'hanako@kojo.example') AS leads,
             (SELECT count(*)::int FROM events e WHERE NOT EXISTS (SELECT 1 FROM leads l WHERE l.id = e.lead_id)) AS orphans,
             (SELECT count(*)::int FROM events) AS events,
             (SELECT count(*)::int FROM forgotten_emails) AS hashes,
             (SELECT count(*)::int FROM outbox_emails) AS outbox,
             (SELECT array_agg(svix_id) FROM resend_webhooks) AS webhooks,
             (SELECT count(*)::int FROM email_sends) AS sends`;
    expect(counts).toEqual({ leads: 0, orphans: 0, events: 0, hashes: 1, outbox: 0, webhooks: ['msg_other'], sends: 0 });
    const everything = JSON.stringify([await app.db.sql`SELECT * FROM audit_log`, await app.db.sql`SELECT * FROM forgotten_emails`, app.logs]);
    expect(everything).not.toContain('hanako@kojo.example');
    const [audit] = await app.db.sql`SELECT actor_user_id, action FROM audit_log WHERE action = 'lead.forgotten'`;
    expect(audit).toEqual({ actor_user_id: 'U0ADMIN', action: 'lead.forgotten' });
  });

  it('refuses the address afterwards, from the API, events and the card', async () => {
    const lead = await api.post('/api/v1/leads', [{ email: 'Hanako@Kojo.example' }]);
    expect(lead.json).toMatchObject({ created: 0, failed: 1, errors: [{ index: 0, problems: ['this address was erased at the person’s request (/nurture forget) and cannot be added again'] }] });
    const event = await api.post('/api/v1/events', [{ email: 'hanako@kojo.example', name: 'page_view', properties: { url: 'https://example.com/' } }]);
    expect(event.json).toMatchObject({ recorded: 0, leads_created: 0, failed: 1 });
    expect(await say('U0REP', 'lead hanako@kojo.example')).toBe('There is no lead with the address hanako@kojo.example.');
  });

  it('blocks an address we never had, so it can never be added', async () => {
    expect(await clickErase('U0ADMIN', 'never-had@example.com')).toMatch(/^There was no lead with never-had@example.com; the address is now blocked/);
    expect((await api.post('/api/v1/leads', { email: 'never-had@example.com' })).status).toBe(400);
  });
});
