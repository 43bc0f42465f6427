import { setTimeout as sleep } from 'node:timers/promises';
import { AlertChannelSettingsSchema } from '../src/modules/alerts/alert-channel.ts';
import { saveAlertChannel } from '../src/modules/alerts/queries.ts';
import { signSiteKey, signVisitorToken } from '../src/modules/tracking/tracking-tokens.ts';
import { setSiteOrigins } from '../src/modules/workspaces/settings.ts';
import { startBenchApp, summarize } from './support/bench-app.ts';

/**
 * From a tracking event accepted (POST /t/v answered 204) to the hot-lead alert received by the fake
 * Slack, while the endpoint takes 200 events/s of background visits (leads who are scored but never
 * alerted: customers). Each measured lead sits just under the threshold and crosses it with one /pricing
 * view; each goes to its own channel (a channel per rep, owner filter), so the per-channel pace of
 * Slack posting never delays it. The app runs as NURTURE_ROLE=all: web and workers in one process.
 * Target (issue #7): p95 under 100 ms.
 */
const BACKGROUND_PER_SECOND = 200;
const BACKGROUND_LEADS = 2000;
const TRIALS = 60;
const TRIAL_SPACING_MS = 300;
const ORIGIN = 'https://www.example.com';

export async function benchAlerts() {
  const app = await startBenchApp();
  const { sql } = app.nurture.services;
  const secret = app.nurture.services.config.trackingSecret;
  try {
    await setSiteOrigins(sql, app.teamId, [ORIGIN]);
    const background = await sql<{ id: number }[]>`
      INSERT INTO leads (team_id, email, stage) SELECT ${app.teamId}, 'customer-' || n || '@example.com', 'customer' FROM generate_series(1, ${BACKGROUND_LEADS}) AS n RETURNING id`;
    const trials: Array<{ id: number; email: string; channel: string }> = [];
    for (let i = 0; i < TRIALS; i++) {
      const owner = `U0REP${i}`;
      const channel = app.slack.addChannel({ id: `C0REP${i}`, name: `rep-${i}`, isMember: true }).id;
      await saveAlertChannel(sql, app.teamId, channel, AlertChannelSettingsSchema.parse({ owner: 'listed', ownerUserIds: [owner] }), 'U0BENCH');
      const [lead] = await sql<{ id: number; email: string }[]>`
        INSERT INTO leads (team_id, email, first_name, company, stage, owner_user_id) VALUES (${app.teamId}, ${`trial-${i}@prospect.example`}, 'Trial', 'Prospect Inc', 'consideration', ${owner}) RETURNING id, email`;
      // Just under the default threshold (50): one /pricing view (10 points) crosses it.
      await sql`INSERT INTO lead_scores (lead_id, team_id, score, scored_at) VALUES (${lead!.id}, ${app.teamId}, 45, now())`;
      trials.push({ ...lead!, channel });
    }

    const siteKey = signSiteKey(secret, { w: app.teamId });
    const visit = (leadId: number, path: string) =>
      fetch(`${app.url}/t/v?site=${encodeURIComponent(siteKey)}`, {
        method: 'POST',
        headers: { origin: ORIGIN, 'content-type': 'text/plain', 'user-agent': 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36' },
        body: JSON.stringify({ name: 'page_view', visitor: signVisitorToken(secret, { w: app.teamId, l: leadId }), url: `${ORIGIN}${path}`, session: 'benchsession', title: 'Page', referrer: '' }),
      });

    // Background: 200 visits a second, spread evenly, for as long as the trials run.
    let running = true;
    let sent = 0;
    let refused = 0;
    const backgroundDone = (async () => {
      const started = performance.now();
      while (running) {
        const due = Math.floor(((performance.now() - started) / 1000) * BACKGROUND_PER_SECOND);
        for (; sent < due; sent++) {
          const lead = background[sent % background.length]!;
          void visit(lead.id, sent % 3 === 0 ? '/pricing' : `/blog/${sent % 50}`).then((response) => {
            if (response.status !== 204) refused++;
          });
        }
        await sleep(2);
      }
      return (performance.now() - started) / 1000;
    })();
    await sleep(2000); // warm-up under load

    const latencies: number[] = [];
    const toRaised: number[] = [];
    const toPosted: number[] = [];
    for (const trial of trials) {
      const response = await visit(trial.id, '/pricing');
      const acceptedAt = Date.now();
      if (response.status !== 204) throw new Error(`the trial visit was refused: ${response.status}`);
      const call = await app.slack.waitForCall('chat.postMessage', (candidate) => candidate.args.channel === trial.channel, { timeoutMs: 10_000 });
      latencies.push(call.at.getTime() - acceptedAt);
      // Where the time went: raised_at is the scorer's clock reading, in its transaction.
      const [alert] = await sql<{ raised: Date }[]>`SELECT raised_at AS raised FROM lead_alerts WHERE team_id = ${app.teamId} AND lead_id = ${trial.id}`;
      toRaised.push(alert!.raised.getTime() - acceptedAt);
      toPosted.push(call.at.getTime() - alert!.raised.getTime());
      await sleep(TRIAL_SPACING_MS);
    }
    running = false;
    const seconds = await backgroundDone;
    console.log(`background: ${sent.toLocaleString('en')} visits in ${seconds.toFixed(1)} s (${Math.round(sent / seconds)}/s), ${refused} refused`);
    summarize('visit accepted → alert at the fake Slack', latencies);
    summarize('  of which: accepted → scored and raised (batch write, scoring job)', toRaised);
    summarize('  of which: raised → posted (commit, posting job, chat.postMessage)', toPosted);
    const [stored] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM lead_alerts WHERE team_id = ${app.teamId}`;
    console.log(`alerts raised: ${stored!.n} (expected ${TRIALS}: background leads are customers, never alerted)`);
  } finally {
    await app.stop();
  }
}
