import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OutgoingEmail } from '../../src/modules/delivery/email-transport.ts';
import { OutboxTransport } from '../../src/modules/delivery/outbox-transport.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { startTestApp } from '../support/test-app.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let db: TestDatabase;
let outbox: OutboxTransport;
beforeAll(async () => {
  db = await createTestDatabase();
  outbox = new OutboxTransport(db.sql);
  await db.sql`INSERT INTO workspaces (team_id) VALUES ('T0ONE'), ('T0TWO')`;
});
afterAll(() => db.drop());

let keys = 0;
const newKey = () => `outbox-${++keys}`;

const email = (to: string, overrides: Partial<OutgoingEmail> = {}): OutgoingEmail => ({
  from: 'Nurture Test <news@nurture.test>',
  to,
  subject: `News for ${to}`,
  html: `<p>Hello ${to}</p>`,
  text: `Hello ${to}`,
  ...overrides,
});

const rowsOf = (key: string) => db.sql`
  SELECT team_id, batch_index, message_id, error, from_address, to_address, subject, html_body, text_body, headers, tags
  FROM outbox_emails WHERE idempotency_key = ${key} ORDER BY batch_index`;

describe('outbox transport', () => {
  it('records every email, rendered, instead of sending it, and answers like Resend', async () => {
    const key = newKey();
    const outcome = await outbox.sendBatch(
      [
        email('ann@example.com', { headers: { 'List-Unsubscribe': '<https://nurture.test/u/x>' }, tags: [{ name: 'send', value: '7' }] }),
        email('not an address'),
        email('yui@example.co.jp', { subject: 'ご案内' }),
      ],
      { teamId: 'T0ONE', idempotencyKey: key },
    );
    const rows = await rowsOf(key);
    expect(outcome).toEqual({
      kind: 'accepted',
      items: [{ ok: true, id: rows[0]!.message_id }, { ok: false, error: expect.stringMatching(/Invalid `to` field/) }, { ok: true, id: rows[2]!.message_id }],
    });
    expect(rows[0]!.message_id).toMatch(UUID);
    expect(rows).toEqual([
      {
        team_id: 'T0ONE',
        batch_index: 0,
        message_id: expect.stringMatching(UUID),
        error: null,
        from_address: 'Nurture Test <news@nurture.test>',
        to_address: 'ann@example.com',
        subject: 'News for ann@example.com',
        html_body: '<p>Hello ann@example.com</p>',
        text_body: 'Hello ann@example.com',
        headers: { 'List-Unsubscribe': '<https://nurture.test/u/x>' },
        tags: [{ name: 'send', value: '7' }],
      },
      expect.objectContaining({ batch_index: 1, message_id: null, error: expect.stringMatching(/Invalid `to` field/), to_address: 'not an address' }),
      expect.objectContaining({ batch_index: 2, to_address: 'yui@example.co.jp', subject: 'ご案内', headers: {}, tags: [] }),
    ]);
  });

  it('a retry with the same key and batch returns the same ids and records nothing twice, even concurrently', async () => {
    const key = newKey();
    const batch = [email('ann@example.com'), email('bob@example.com')];
    const [first, second] = await Promise.all([outbox.sendBatch(batch, { teamId: 'T0ONE', idempotencyKey: key }), outbox.sendBatch(batch, { teamId: 'T0ONE', idempotencyKey: key })]);
    const third = await outbox.sendBatch(batch, { teamId: 'T0ONE', idempotencyKey: key });
    expect(first).toMatchObject({ kind: 'accepted' });
    expect(second).toEqual(first);
    expect(third).toEqual(first);
    expect(await rowsOf(key)).toHaveLength(2);
  });

  it('refuses the same key with a different batch, or for another workspace, as Resend does', async () => {
    const key = newKey();
    await outbox.sendBatch([email('ann@example.com')], { teamId: 'T0ONE', idempotencyKey: key });
    const refused = { kind: 'permanent', code: 'invalid_idempotent_request', status: 409, message: expect.stringContaining(key) };
    expect(await outbox.sendBatch([email('ann@example.com', { subject: 'Changed' })], { teamId: 'T0ONE', idempotencyKey: key })).toEqual(refused);
    expect(await outbox.sendBatch([email('ann@example.com'), email('bob@example.com')], { teamId: 'T0ONE', idempotencyKey: key })).toEqual(refused);
    expect(await outbox.sendBatch([email('ann@example.com')], { teamId: 'T0TWO', idempotencyKey: key })).toEqual(refused);
    expect(await rowsOf(key)).toEqual([expect.objectContaining({ team_id: 'T0ONE', subject: 'News for ann@example.com' })]);
  });
});

describe('without RESEND_API_KEY', () => {
  it('Nurture warns at start that emails are not sent, and records them in the outbox', async () => {
    const app = await startTestApp({ role: 'web', env: { RESEND_API_KEY: '' }, emailTransport: 'config' });
    try {
      expect(app.logs).toContainEqual(expect.objectContaining({ level: 40, msg: expect.stringMatching(/RESEND_API_KEY is not set: emails are NOT sent to anyone.*outbox_emails/) }));
      expect(app.logs).toContainEqual(expect.objectContaining({ msg: 'nurture is ready', email: 'outbox' }));
      const { email: transport } = app.nurture.services;
      await app.db.sql`INSERT INTO workspaces (team_id) VALUES (${app.slack.teamId}) ON CONFLICT DO NOTHING`;
      const outcome = await transport.sendBatch([email('ann@example.com')], { teamId: app.slack.teamId, idempotencyKey: 'trial-1' });
      expect(outcome).toMatchObject({ kind: 'accepted', items: [{ ok: true }] });
      expect(await app.db.sql`SELECT to_address FROM outbox_emails`).toEqual([{ to_address: 'ann@example.com' }]);
      expect(app.resend.requests).toEqual([]);
    } finally {
      await app.stop();
    }
  });
});
