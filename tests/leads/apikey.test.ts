import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientWithKey } from '../support/api-client.ts';
import { replyText } from '../support/slack-replies.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';

let app: TestApp;
const say = async (userId: string, text: string) => replyText((await app.command(userId, text)).reply.body);

beforeAll(async () => {
  app = await startTestApp();
  app.addUser({ id: 'U0ADMIN', isAdmin: true });
  app.addUser({ id: 'U0MARKETER' });
  await app.command('U0ADMIN', 'roles add <@U0MARKETER|m> marketer');
});
afterAll(() => app.stop());

describe('/nurture apikey', () => {
  let key = '';

  it('an admin creates a key that is shown once and stored only as a hash', async () => {
    const text = await say('U0ADMIN', 'apikey create website forms');
    key = /`(nurture_[A-Za-z0-9_-]{43})`/.exec(text)?.[1] ?? '';
    expect(key).toMatch(/^nurture_/);
    expect(text).toContain('shown only this once');
    expect(text).toContain('https://nurture.test/api/v1/leads');
    const stored = JSON.stringify(await app.db.sql`SELECT * FROM api_keys`);
    expect(stored).not.toContain(key);
    expect(JSON.stringify(app.logs)).not.toContain(key);
    expect((await clientWithKey(app, key).post('/api/v1/leads', { email: 'via-key@example.com' })).status).toBe(200);
  });

  it('lists keys by label and prefix, never the key itself', async () => {
    const text = await say('U0ADMIN', 'apikey list');
    expect(text).toMatch(/\*website forms\* `nurture_.{6}…` — created by <@U0ADMIN> on \d{4}-\d{2}-\d{2}, last used/);
    expect(text).not.toContain(key);
  });

  it('refuses a second active key with the same label, and a missing label', async () => {
    expect(await say('U0ADMIN', 'apikey create Website Forms')).toBe('There is already an active key labelled "Website Forms". Pick another label, or revoke that one first.');
    expect(await say('U0ADMIN', 'apikey create')).toBe('Give the key a label that says what uses it, e.g. `/nurture apikey create website-forms`');
  });

  it('is for admins only', async () => {
    expect(await say('U0MARKETER', 'apikey create mine')).toMatch(/^Managing API keys needs the \*admin\* role\./);
    expect(await say('U0MARKETER', 'apikey list')).toMatch(/^Managing API keys needs the \*admin\* role\./);
  });

  it('revoking a key makes the API refuse it at once; both are audited', async () => {
    expect(await say('U0ADMIN', 'apikey revoke website forms')).toMatch(/^API key "website forms" \(`nurture_.{6}…`\) is revoked/);
    const refused = await clientWithKey(app, key).post('/api/v1/leads', { email: 'after@example.com' });
    expect(refused.status).toBe(401);
    expect(await say('U0ADMIN', 'apikey revoke website forms')).toMatch(/^No active API key is labelled "website forms"/);
    const audit = await app.db.sql<{ action: string }[]>`SELECT action FROM audit_log WHERE action LIKE 'apikey.%' ORDER BY id`;
    expect(audit.map((row) => row.action)).toEqual(['apikey.created', 'apikey.revoked']);
  });
});
