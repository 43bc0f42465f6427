import { afterEach, describe, expect, it } from 'vitest';
import { createTestDatabase } from './support/database.ts';
import { startFakeSlack } from './support/fake-slack.ts';
import { TEST_APP_TOKEN, TEST_BOT_TOKEN } from './support/test-config.ts';
import { startTestApp, type TestApp } from './support/test-app.ts';

const running: TestApp[] = [];
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const app of running.splice(0).reverse()) await app.stop();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('several processes against one database', () => {
  it('a web process takes the command and a worker process does the queued work', async () => {
    const db = await createTestDatabase();
    const slack = await startFakeSlack({ botToken: TEST_BOT_TOKEN, appToken: TEST_APP_TOKEN, triggerIdTtlMs: Infinity });
    cleanups.push(() => db.drop(), () => slack.close());
    const web = await startTestApp({ role: 'web', db, slack });
    running.push(web);
    web.addUser({ id: 'U0OWNER', isOwner: true });
    web.addUser({ id: 'U0BOB' });

    await web.command('U0OWNER', 'roles add <@U0BOB|bob> rep');
    const [queued] = await db.sql`SELECT count(*)::int AS n FROM pgboss.job WHERE name = 'slack.publish-home' AND state = 'created'`;
    expect(queued?.n).toBe(1);
    expect(slack.callsTo('views.publish')).toEqual([]);

    // Two workers, as in production: the job is done once.
    running.push(await startTestApp({ role: 'worker', db, slack }), await startTestApp({ role: 'worker', db, slack }));
    await slack.waitForCall('views.publish', (call) => call.args.user_id === 'U0BOB');
    const [done] = await db.sql`SELECT count(*)::int AS n FROM pgboss.job WHERE name = 'slack.publish-home' AND state = 'completed'`;
    expect(done?.n).toBe(1);
    expect(slack.callsTo('views.publish')).toHaveLength(1);
  });

  it('a worker process serves /healthz but not Slack', async () => {
    const worker = await startTestApp({ role: 'worker' });
    running.push(worker);
    const health = await fetch(`${worker.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', role: 'worker' });
    const slackRequest = await worker.requests.command({ teamId: 'T0TEST', userId: 'U1', channelId: 'C1', text: 'help', responseUrl: worker.slack.responseUrl(), triggerId: 't' }, { checkAck: false });
    expect(slackRequest.status).toBe(404);
  });
});
