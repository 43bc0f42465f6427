import { Writable } from 'node:stream';
import type { Config } from '../../src/config.ts';
import type { Clock } from '../../src/lib/clock.ts';
import { createLogger } from '../../src/lib/logger.ts';
import type { EmailSources } from '../../src/modules/delivery/email-source.ts';
import type { EmailTransport } from '../../src/modules/delivery/email-transport.ts';
import { ResendTransport } from '../../src/modules/delivery/resend-transport.ts';
import { startNurture, type Nurture } from '../../src/nurture.ts';
import { createTestDatabase, type TestDatabase } from './database.ts';
import { startFakeResend, type FakeResend } from './fake-resend.ts';
import { startFakeSlack, type FakeSlack, type FakeSlackUser, type RecordedResponse } from './fake-slack.ts';
import { createSlackRequester, eventCallback, slashCommandPayload, type Payload, type SlackHttpResult, type SlackRequester } from './slack-requests.ts';
import { TEST_APP_TOKEN, TEST_BOT_TOKEN, TEST_SIGNING_SECRET, testConfig } from './test-config.ts';

export interface LogLine {
  level: number;
  msg?: string;
  [key: string]: unknown;
}

export interface TestApp {
  readonly nurture: Nurture;
  /** http://127.0.0.1:PORT of the running app. */
  readonly url: string;
  readonly config: Config;
  readonly db: TestDatabase;
  readonly slack: FakeSlack;
  /** The fake Resend the app sends through (unless started with its own emailTransport). */
  readonly resend: FakeResend;
  /** Signed requests to POST /slack/events (HTTP mode). */
  readonly requests: SlackRequester;
  /** Every log line the app wrote, parsed. */
  readonly logs: readonly LogLine[];
  /** Runs `/nurture <text>` as the person (over HTTP or Socket Mode) and resolves with the first reply to its response_url. */
  command(userId: string, text: string, options?: { channelId?: string; teamId?: string }): Promise<CommandOutcome>;
  /** Delivers an Events API event (HTTP or Socket Mode, as the app runs) and resolves once it was acked. */
  event(event: Payload): Promise<void>;
  /** Delivers an interactivity payload (block_actions, view_submission…) and resolves with the ack body. */
  interaction(payload: Payload): Promise<unknown>;
  /** Clicks a button in an ephemeral message (block_actions with a response_url) and resolves with the reply posted to it. */
  clickMessageButton(userId: string, button: { actionId: string; value: string; text?: string }): Promise<RecordedResponse>;
  /** A Slack user in the fake workspace; Slack admins and owners become Nurture admins. */
  addUser(user: Omit<FakeSlackUser, 'teamId'>): FakeSlackUser;
  stop(): Promise<void>;
}

export interface CommandOutcome {
  /** Bolt's answer to Slack (HTTP status and body), or the Socket Mode ack. */
  ack: { status: number; body: unknown };
  /** The ephemeral/in-channel reply posted to the response_url. */
  reply: RecordedResponse;
  triggerId: string;
}

export interface TestAppOptions {
  role?: 'all' | 'web' | 'worker';
  socketMode?: boolean;
  /** Reuse a database (e.g. a second process against the same one). */
  db?: TestDatabase;
  slack?: FakeSlack;
  resend?: FakeResend;
  /** Instead of Resend pointed at the fake: another transport, or `config` for what the config says (the outbox without RESEND_API_KEY). */
  emailTransport?: EmailTransport | 'config';
  env?: Record<string, string>;
  /** Instead of the registered kinds of email (tests of the send pipeline itself). */
  emailSources?: EmailSources;
  /** Instead of the system clock: a ManualClock (tests/support/manual-clock.ts) the test moves. */
  clock?: Clock;
}

/** The whole app on a fresh database, talking to a fake Slack, driven through signed requests. */
export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const db = options.db ?? (await createTestDatabase());
  const slack = options.slack ?? (await startFakeSlack({ botToken: TEST_BOT_TOKEN, appToken: TEST_APP_TOKEN, triggerIdTtlMs: Infinity }));
  const resend = options.resend ?? (await startFakeResend());
  const logs: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line) logs.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  const config = testConfig({
    DATABASE_URL: db.url,
    SLACK_API_URL: slack.url,
    NURTURE_ROLE: options.role ?? 'all',
    LOG_LEVEL: 'info',
    ...(options.socketMode ? { SLACK_APP_TOKEN: TEST_APP_TOKEN } : {}),
    ...options.env,
  });
  const nurture = await startNurture(config, {
    logger: createLogger(config.logLevel, sink),
    slackClientOptions: { retryConfig: { retries: 0 } },
    ...(options.emailSources ? { emailSources: options.emailSources } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.emailTransport !== 'config' ? { emailTransport: options.emailTransport ?? new ResendTransport({ apiKey: resend.apiKey, baseUrl: resend.url }) } : {}),
  });
  const url = `http://127.0.0.1:${nurture.port}`;
  const requests = createSlackRequester({ baseUrl: url, signingSecret: TEST_SIGNING_SECRET, teamId: slack.teamId });

  const interaction = async (payload: Payload): Promise<unknown> => {
    if (options.socketMode) return (await slack.socket.send('interactive', payload)).payload;
    const result = await requests.interaction(payload);
    if (result.status !== 200) throw new Error(`interaction refused with ${result.status}: ${result.text}`);
    return result.json ?? result.text;
  };

  return {
    nurture,
    url,
    config,
    db,
    slack,
    resend,
    requests,
    logs,
    addUser: (user) => slack.addUser({ ...user, teamId: slack.teamId }),
    async command(userId, text, commandOptions = {}) {
      const responseUrl = slack.responseUrl();
      const triggerId = slack.newTriggerId();
      const fields = { teamId: commandOptions.teamId ?? slack.teamId, userId, channelId: commandOptions.channelId ?? 'C0GENERAL', text, responseUrl, triggerId };
      let ack: CommandOutcome['ack'];
      if (options.socketMode) {
        const socketAck = await slack.socket.send('slash_commands', slashCommandPayload(fields), { acceptsResponsePayload: true });
        ack = { status: 200, body: socketAck.payload };
      } else {
        const result: SlackHttpResult = await requests.command(fields);
        ack = { status: result.status, body: result.json ?? result.text };
      }
      const reply = await slack.waitForResponse((response) => response.url === responseUrl);
      return { ack, reply, triggerId };
    },
    async event(event) {
      if (options.socketMode) {
        await slack.socket.send('events_api', eventCallback({ teamId: slack.teamId, event }));
        return;
      }
      const result = await requests.event(event);
      if (result.status !== 200) throw new Error(`event refused with ${result.status}: ${result.text}`);
    },
    interaction,
    async clickMessageButton(userId, button) {
      const responseUrl = slack.responseUrl();
      await interaction({
        type: 'block_actions',
        user: { id: userId, team_id: slack.teamId },
        team: { id: slack.teamId, domain: slack.teamDomain },
        api_app_id: slack.appId,
        trigger_id: slack.newTriggerId(),
        response_url: responseUrl,
        container: { type: 'message', is_ephemeral: true },
        actions: [{ type: 'button', action_id: button.actionId, block_id: 'b', value: button.value, action_ts: '1.1', text: { type: 'plain_text', text: button.text ?? 'OK' } }],
      });
      return slack.waitForResponse((response) => response.url === responseUrl);
    },
    async stop() {
      await nurture.stop();
      if (!options.slack) await slack.close();
      if (!options.resend) await resend.close();
      if (!options.db) await db.drop();
    },
  };
}
