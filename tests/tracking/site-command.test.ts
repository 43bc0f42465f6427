import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAudit } from '../../src/modules/workspaces/queries.ts';
import { getSiteOrigins } from '../../src/modules/workspaces/settings.ts';
import { readSiteKey } from '../../src/modules/tracking/tracking-tokens.ts';
import { NO_ORIGINS_TEXT } from '../../src/modules/tracking/site-subcommand.ts';
import { replyText } from '../support/slack-replies.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { post } from './site-support.ts';

const OWNER = 'U0OWNER';
const REP = 'U0REP';
const NOBODY = 'U0NOBODY';

let app: TestApp;
let team: string;
beforeAll(async () => {
  app = await startTestApp();
  team = app.slack.teamId;
  app.addUser({ id: OWNER, isOwner: true });
  app.addUser({ id: REP, name: 'ren' });
  app.addUser({ id: NOBODY, name: 'nora' });
  await app.command(OWNER, `roles add <@${REP}|ren> rep`);
});
afterAll(() => app?.stop());

const say = async (userId: string, text: string) => replyText((await app.command(userId, text)).reply.body);

/** The site key in the snippet a reply shows (mrkdwn-escaped). */
function siteKeyIn(text: string): string {
  const match = /&lt;script async src="https:\/\/nurture\.test\/t\/s\.js" data-site="([A-Za-z0-9_.-]+)"&gt;&lt;\/script&gt;/.exec(text);
  if (!match) throw new Error(`no install snippet in: ${text}`);
  return match[1]!;
}

describe('/nurture site', () => {
  it('shows a rep the one-line snippet with the workspace’s site key, and no origins yet; refuses someone without a role', async () => {
    const text = await say(REP, 'site');
    expect(readSiteKey(app.config.trackingSecret, siteKeyIn(text))).toEqual({ w: team });
    expect(text).toContain(NO_ORIGINS_TEXT);
    expect(await say(NOBODY, 'site')).toContain('Looking at the website snippet needs one of these roles: *marketer*, *rep*');
  });

  it('lets an admin set the origins (Slack’s links and trailing slashes accepted), audited; the rep then sees them and the site may report', async () => {
    const reply = await say(OWNER, 'site origins <https://www.example.com/|www.example.com> https://shop.example.com:8443 http://localhost:3000');
    expect(reply).toBe('Pages on https://www.example.com, https://shop.example.com:8443, http://localhost:3000 may now report visits.');
    expect(await getSiteOrigins(app.db.sql, team)).toEqual(['https://www.example.com', 'https://shop.example.com:8443', 'http://localhost:3000']);
    const [audit] = await listAudit(app.db.sql, team);
    expect(audit).toMatchObject({ actor_user_id: OWNER, action: 'site.origins_changed', details: { from: [], to: ['https://www.example.com', 'https://shop.example.com:8443', 'http://localhost:3000'] } });

    const text = await say(REP, 'site');
    expect(text).toContain('*Allowed origins:* https://www.example.com, https://shop.example.com:8443, http://localhost:3000');
    const preflight = await post(`${app.url}/t/v?site=${siteKeyIn(text)}`, '', { origin: 'https://shop.example.com:8443', 'access-control-request-method': 'POST' }, 'OPTIONS');
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe('https://shop.example.com:8443');
  });

  it('refuses origins with a path, another scheme or no address, and a rep changing them; nothing changes', async () => {
    const before = await getSiteOrigins(app.db.sql, team);
    expect(await say(OWNER, 'site origins https://www.example.com/shop')).toContain('https://www.example.com/shop is not an origin: give only the scheme and host, e.g. https://www.example.com');
    expect(await say(OWNER, 'site origins ftp://files.example.com')).toContain('ftp://files.example.com must start with https:// or http://');
    expect(await say(OWNER, 'site origins www.example.com')).toContain('"www.example.com" is not an address such as https://www.example.com');
    expect(await say(OWNER, 'site origins')).toContain('Give the site origins');
    expect(await say(REP, 'site origins https://evil.example.net')).toContain('Changing the allowed site origins needs the *admin* role');
    expect(await getSiteOrigins(app.db.sql, team)).toEqual(before);
  });

  it('clears the origins with none, after which the site’s preflight is refused', async () => {
    expect(await say(OWNER, 'site origins none')).toBe(`Allowed origins cleared. ${NO_ORIGINS_TEXT}`);
    expect(await getSiteOrigins(app.db.sql, team)).toEqual([]);
    const key = siteKeyIn(await say(OWNER, 'site'));
    const preflight = await post(`${app.url}/t/v?site=${key}`, '', { origin: 'https://www.example.com', 'access-control-request-method': 'POST' }, 'OPTIONS');
    expect(preflight.status).toBe(403);
  });

  it('is listed in help with its forms', async () => {
    const help = await say(REP, 'help site');
    expect(help).toContain('/nurture site origins https://www.example.com https://shop.example.com');
  });
});
