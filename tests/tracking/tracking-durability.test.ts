import { afterEach, describe, expect, it } from 'vitest';
import { PIXEL_GIF } from '../../src/modules/tracking/tracking-routes.ts';
import type { TestApp } from '../support/test-app.ts';
import { waitFor } from '../support/wait-for.ts';
import { hit, local, sendTo, startTrackingApp, TEAM, trackedUrls } from './tracking-support.ts';

let app: TestApp | undefined;
afterEach(async () => {
  await app?.stop();
  app = undefined;
});

const countEvents = async (test: TestApp) => Number((await test.db.sql<{ n: string }[]>`SELECT count(*) AS n FROM events WHERE team_id = ${TEAM}`)[0]!.n);

describe('every answered event is stored', () => {
  it('many concurrent opens and clicks, then a graceful stop: as many events as answers', async () => {
    const started = await startTrackingApp();
    app = started.app;
    const emails = [];
    for (let i = 0; i < 4; i++) emails.push(await sendTo(app, 1));
    started.clock.advance({ minutes: 30 });
    const urls = emails.flatMap(({ email }) => {
      const tracked = trackedUrls(email.html!);
      return [tracked.pixel, ...tracked.clicks, tracked.hidden].map((url) => local(app!, url));
    });
    const requests = Array.from({ length: 600 }, (_, i) => urls[i % urls.length]!);
    const answers = await Promise.all(requests.map((url, i) => hit(url, i % 10 === 0 ? { method: 'HEAD' } : {})));
    expect(answers.every((answer) => answer.status === 200 || answer.status === 302)).toBe(true);

    await app.nurture.stop();
    expect(await countEvents(app)).toBe(requests.length);
  });

  it('while the database refuses the writes, the pixel and the redirect are still answered; the events are stored once it is back', async () => {
    const started = await startTrackingApp();
    app = started.app;
    const { email, leadId } = await sendTo(app, 1);
    started.clock.advance({ minutes: 30 });
    const tracked = trackedUrls(email.html!);
    // The events table away: every flush fails, as in an outage of the database.
    await app.db.sql`ALTER TABLE events RENAME TO events_away`;
    try {
      const pixel = await hit(local(app, tracked.pixel));
      expect(pixel.status).toBe(200);
      expect(pixel.body.equals(PIXEL_GIF)).toBe(true);
      const click = await hit(local(app, tracked.clicks[0]!));
      expect(click.status).toBe(302);
      await waitFor(() => app!.logs.some((line) => line.msg === 'tracking events not stored yet; retrying'), { description: 'a failed flush' });
    } finally {
      await app.db.sql`ALTER TABLE events_away RENAME TO events`;
    }
    const stored = await waitFor(
      async () => {
        const rows = await app!.db.sql<{ name: string }[]>`SELECT name FROM events WHERE team_id = ${TEAM} AND lead_id = ${leadId} ORDER BY name`;
        return rows.length === 2 ? rows : undefined;
      },
      { timeoutMs: 10_000, description: 'both events stored after the outage' },
    );
    expect(stored.map((row) => row.name)).toEqual(['email_clicked', 'email_opened']);
  });
});
