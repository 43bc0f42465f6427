import { request } from 'node:http';
import type { EmailSourceKind, PreparedSource, SourceContent } from '../../src/modules/delivery/email-source.ts';
import { addRecipients } from '../../src/modules/delivery/ledger-queries.ts';
import { enqueueChunks } from '../../src/modules/delivery/send-chunk-queue.ts';
import { compileTemplate } from '../../src/modules/templates/compile-template.ts';
import type { TemplateContent } from '../../src/modules/templates/template.ts';
import type { RecordedEmail } from '../support/fake-resend.ts';
import { insertLead } from '../support/factories.ts';
import { ManualClock } from '../support/manual-clock.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';

export const TEAM = 'T0TRACKING';
export const HUMAN_UA = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15';

/** LAUNCH's pricing link, as written in it (twice). */
export const PRICING = 'https://shop.example.com/pricing?plan=pro&ref=mail#top';

/** Two web links (one with a merge field), a mailto link, and the same pricing link twice (one link). */
export const LAUNCH: TemplateContent = {
  name: 'Launch',
  stage: 'awareness',
  subject: 'Hello {{ first_name }}',
  preheader: '',
  body: [
    'Hi {{ first_name | default: "there" }},',
    '',
    `See [our pricing](${PRICING}) or [your page](https://shop.example.com/c/{{ company }}).`,
    '',
    `Write to [sales](mailto:sales@example.com). Again: ${PRICING}`,
  ].join('\n'),
};
export const OTHER_SEQUENCE = 'Nurture "Q4" \\ EMEA';
export const OTHER: TemplateContent = { ...LAUNCH, name: 'Other', body: 'Read [the guide](https://shop.example.com/guide).' };

/** An email source whose newsletters 1 and 2 send LAUNCH and OTHER: the pipeline's real render path, no Slack flow. */
function trackingSource(): EmailSourceKind {
  const templates = new Map([
    [1, compileTemplate(LAUNCH)],
    [2, compileTemplate(OTHER)],
  ]);
  const content = (id: number): SourceContent => ({
    capPolicy: 'skip',
    template: (step) => (step === 0 ? templates.get(id) : undefined),
    senderName: 'Acme Marketing',
    postalAddress: '1 Main St, Springfield',
  });
  return {
    kind: 'newsletter',
    async prepare(_sql, _teamId, id): Promise<PreparedSource> {
      return { action: 'send', ...content(id) };
    },
    async chunkSettled() {},
    async pause() {},
    async labels(_sql, _teamId, id) {
      // Other's labels carry quotes and a backslash: they reach the events as written.
      return id === 1 ? { message: 'Launch', sequence: 'Onboarding' } : { message: 'Other', sequence: OTHER_SEQUENCE };
    },
  };
}

export const SENT_AT = '2026-03-02T09:00:00Z';

export async function startTrackingApp(): Promise<{ app: TestApp; clock: ManualClock }> {
  const clock = new ManualClock(SENT_AT);
  const app = await startTestApp({ clock, emailSources: new Map([['newsletter', trackingSource()]]), env: { RESEND_REQUESTS_PER_SECOND: '200' } });
  return { app, clock };
}

export interface SentEmail {
  email: RecordedEmail;
  leadId: number;
  sendId: number;
}

/** Sends newsletter `newsletterId` to a new lead through the delivery pipeline and returns what Resend received. */
export async function sendTo(app: TestApp, newsletterId: 1 | 2, fields: Record<string, unknown> = {}): Promise<SentEmail> {
  const lead = await insertLead(app.db.sql, TEAM, { first_name: 'Ann', company: 'kojo-sons', ...fields });
  const source = { teamId: TEAM, kind: 'newsletter' as const, id: newsletterId };
  const { chunkIds } = await addRecipients(app.db.sql, source, app.db.sql`SELECT ${lead.id}::bigint AS lead_id`);
  await enqueueChunks(app.nurture.services, source, chunkIds);
  const [email] = await app.resend.waitForEmails((sent) => sent.to.includes(lead.email));
  const [row] = await app.db.sql<{ id: number }[]>`SELECT id FROM email_sends WHERE team_id = ${TEAM} AND lead_id = ${lead.id}`;
  return { email: email!, leadId: lead.id, sendId: row!.id };
}

/** The tracked addresses of an HTML part, in order: /t/c/… links and the /t/o/… pixel. */
export function trackedUrls(html: string): { clicks: string[]; pixel: string; hidden: string } {
  const hrefs = [...html.matchAll(/href="([^"]*)"/g)].map((match) => match[1]!.replaceAll('&amp;', '&'));
  const hidden = [...html.matchAll(/<a href="([^"]*)"[^>]*aria-hidden="true"/g)].map((match) => match[1]!)[0]!;
  const pixel = /<img src="([^"]*\/t\/o\/[^"]*)"/.exec(html)![1]!;
  return { clicks: hrefs.filter((href) => href.includes('/t/c/') && href !== hidden), pixel, hidden };
}

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A raw HTTP request (fetch would follow redirects and refuse some paths). */
export function hit(url: string, options: { method?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: options.method ?? 'GET', headers: { 'user-agent': HUMAN_UA, ...options.headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The app's own address for a tracked URL (PUBLIC_URL in tests may differ from where it listens). */
export function local(app: TestApp, url: string): string {
  const parsed = new URL(url);
  return `${app.url}${parsed.pathname}${parsed.search}`;
}

export interface StoredEvent {
  name: string;
  verdict: string;
  verdict_reason: string | null;
  properties: Record<string, unknown>;
  source: string;
}

export async function eventsOf(app: TestApp, leadId: number): Promise<StoredEvent[]> {
  return app.db.sql<StoredEvent[]>`
    SELECT name, verdict, verdict_reason, properties, source FROM events WHERE team_id = ${TEAM} AND lead_id = ${leadId} ORDER BY occurred_at, id`;
}
