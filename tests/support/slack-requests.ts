import { createHmac } from 'node:crypto';
import { checkMessage, checkView, formatProblem, hasMessageContent, LIMITS, type SlackRefusal } from './block-kit-limits.ts';

/**
 * Requests as Slack sends them to our app: signed with the signing secret, with the exact content types
 * Bolt expects, and with every field Slack puts in them. The requester also holds the app to Slack's side
 * of the contract: an ack later than 3 s, or an ack body Slack would refuse, fails the request.
 */

/** The (deprecated) verification token Slack still puts in every payload. */
export const TEST_VERIFICATION_TOKEN = 'verification-token-test';
/** Slack refuses to deliver acks slower than this; Bolt's verifier refuses timestamps older than 5 minutes. */
export const SLACK_ACK_DEADLINE_MS = 3_000;
const SLACK_USER_AGENT = 'Slackbot 1.0 (+https://api.slack.com/robots)';

export type Payload = Record<string, unknown>;

export interface SlackSignatureHeaders {
  'x-slack-signature': string;
  'x-slack-request-timestamp': string;
}

/** `v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{rawBody}`, as Slack signs every request. */
export function signSlackRequest(signingSecret: string, rawBody: string, timestampSeconds = nowSeconds()): SlackSignatureHeaders {
  const signature = createHmac('sha256', signingSecret).update(`v0:${timestampSeconds}:${rawBody}`).digest('hex');
  return { 'x-slack-signature': `v0=${signature}`, 'x-slack-request-timestamp': String(timestampSeconds) };
}

export interface SlashCommandFields {
  teamId: string;
  userId: string;
  userName?: string;
  channelId: string;
  channelName?: string;
  command?: string;
  text?: string;
  responseUrl: string;
  triggerId: string;
  apiAppId?: string;
  teamDomain?: string;
  enterpriseId?: string;
  enterpriseName?: string;
}

/** The fields of a slash command, as the Socket Mode `slash_commands` envelope carries them. */
export function slashCommandPayload(fields: SlashCommandFields): Record<string, string> {
  return {
    token: TEST_VERIFICATION_TOKEN,
    team_id: fields.teamId,
    team_domain: fields.teamDomain ?? 'nurture-test',
    ...(fields.enterpriseId === undefined ? {} : { enterprise_id: fields.enterpriseId, enterprise_name: fields.enterpriseName ?? 'Enterprise' }),
    channel_id: fields.channelId,
    channel_name: fields.channelName ?? (fields.channelId.startsWith('D') ? 'directmessage' : fields.channelId.toLowerCase()),
    user_id: fields.userId,
    user_name: fields.userName ?? fields.userId.toLowerCase(),
    command: fields.command ?? '/nurture',
    text: fields.text ?? '',
    api_app_id: fields.apiAppId ?? 'A0TEST',
    is_enterprise_install: String(fields.enterpriseId !== undefined),
    response_url: fields.responseUrl,
    trigger_id: fields.triggerId,
  };
}

/** The form body Slack POSTs for a slash command. */
export function slashCommandBody(fields: SlashCommandFields): string {
  return new URLSearchParams(slashCommandPayload(fields)).toString();
}

/** Interactivity (block_actions, view_submission, …) arrives as a form field `payload` holding JSON. */
export function interactionBody(payload: Payload): string {
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

export interface EventEnvelopeFields {
  teamId: string;
  event: Payload;
  apiAppId?: string;
  /** The bot user the event is authorized for (authorizations[0].user_id). */
  botUserId?: string;
  eventId?: string;
  eventTime?: number;
  enterpriseId?: string;
}

/** The Events API `event_callback` envelope, as delivered over HTTP and inside Socket Mode `events_api`. */
export function eventCallback(fields: EventEnvelopeFields): Payload {
  const eventTime = fields.eventTime ?? nowSeconds();
  return {
    token: TEST_VERIFICATION_TOKEN,
    team_id: fields.teamId,
    context_team_id: fields.teamId,
    context_enterprise_id: fields.enterpriseId ?? null,
    api_app_id: fields.apiAppId ?? 'A0TEST',
    event: { event_ts: `${eventTime}.000100`, ...fields.event },
    type: 'event_callback',
    event_id: fields.eventId ?? `Ev${Math.random().toString(36).slice(2, 12).toUpperCase()}`,
    event_time: eventTime,
    authorizations: [
      {
        enterprise_id: fields.enterpriseId ?? null,
        team_id: fields.teamId,
        user_id: fields.botUserId ?? 'U0BOT',
        is_bot: true,
        is_enterprise_install: fields.enterpriseId !== undefined,
      },
    ],
    is_ext_shared_channel: false,
    event_context: `4-${Buffer.from(JSON.stringify({ team: fields.teamId })).toString('base64url')}`,
  };
}

export function eventBody(fields: EventEnvelopeFields): string {
  return JSON.stringify(eventCallback(fields));
}

/** The handshake Slack sends when the Events API request URL is saved. */
export function urlVerificationBody(challenge: string): string {
  return JSON.stringify({ token: TEST_VERIFICATION_TOKEN, challenge, type: 'url_verification' });
}

export interface SlackRequestOptions {
  /** Sign with this secret instead (a wrong one: Bolt must answer 401). */
  secret?: string;
  /** Sign with this timestamp (older than 5 minutes: Bolt must answer 401). */
  timestampSeconds?: number;
  /** Send without X-Slack-Signature / X-Slack-Request-Timestamp. */
  unsigned?: boolean;
  /** Extra or overriding headers (e.g. x-slack-retry-num on an event redelivery). */
  headers?: Record<string, string>;
  /** Hold the ack to Slack's rules (3 s, acceptable body). Default true; raw() never checks. */
  checkAck?: boolean;
}

export interface SlackHttpResult {
  status: number;
  headers: Headers;
  text: string;
  /** The parsed body when it is JSON, else undefined. */
  json: unknown;
  elapsedMs: number;
}

export interface SlackRequesterOptions {
  /** Our app, e.g. http://127.0.0.1:3000 */
  baseUrl: string;
  path?: string;
  signingSecret: string;
  /** Defaults for event envelopes; they match startFakeSlack()'s defaults. */
  teamId?: string;
  apiAppId?: string;
  botUserId?: string;
  ackDeadlineMs?: number;
}

export interface SlackRequester {
  command(fields: SlashCommandFields, options?: SlackRequestOptions): Promise<SlackHttpResult>;
  interaction(payload: Payload, options?: SlackRequestOptions): Promise<SlackHttpResult>;
  /** Wraps the event in an event_callback envelope (override envelope fields with `envelope`). */
  event(event: Payload, options?: SlackRequestOptions & { envelope?: Partial<EventEnvelopeFields> }): Promise<SlackHttpResult>;
  urlVerification(challenge: string, options?: SlackRequestOptions): Promise<SlackHttpResult>;
  raw(body: string, headers: Record<string, string>, options?: SlackRequestOptions): Promise<SlackHttpResult>;
}

const FORM = 'application/x-www-form-urlencoded';
const JSON_TYPE = 'application/json';

export function createSlackRequester(requesterOptions: SlackRequesterOptions): SlackRequester {
  const endpoint = new URL(requesterOptions.path ?? '/slack/events', requesterOptions.baseUrl).toString();
  const deadlineMs = requesterOptions.ackDeadlineMs ?? SLACK_ACK_DEADLINE_MS;

  async function post(body: string, contentType: string, options: SlackRequestOptions = {}): Promise<SlackHttpResult> {
    const signature = options.unsigned
      ? {}
      : signSlackRequest(options.secret ?? requesterOptions.signingSecret, body, options.timestampSeconds);
    const started = performance.now();
    const response = await fetch(endpoint, {
      method: 'POST',
      // Bolt only parses a form body whose content type is exactly application/x-www-form-urlencoded.
      headers: { 'content-type': contentType, 'user-agent': SLACK_USER_AGENT, ...signature, ...options.headers },
      body,
    });
    const text = await response.text();
    const elapsedMs = performance.now() - started;
    return { status: response.status, headers: response.headers, text, json: parseJson(text), elapsedMs };
  }

  /** What Slack does with the answer: give up after 3 s, and refuse a body that breaks Block Kit. */
  function holdToSlackRules(result: SlackHttpResult, refusal: (json: Payload) => SlackRefusal | null, options: SlackRequestOptions): SlackHttpResult {
    if (options.checkAck === false || options.unsigned || options.secret !== undefined || options.timestampSeconds !== undefined) return result;
    if (result.elapsedMs > deadlineMs) {
      throw new Error(`The app answered in ${Math.round(result.elapsedMs)} ms; Slack gives up after ${deadlineMs} ms (ack first, then work)`);
    }
    if (result.status !== 200 || result.text === '') return result;
    const json = isPayload(result.json) ? result.json : { text: result.text };
    const refused = refusal(json);
    if (refused !== null) {
      throw new Error(`Slack would refuse this ack body: ${refused.error}\n${refused.problems.map((p) => `[ERROR] ${formatProblem(p)}`).join('\n')}\n${result.text.slice(0, 500)}`);
    }
    return result;
  }

  return {
    async command(fields, options = {}) {
      const result = await post(slashCommandBody(fields), FORM, options);
      // A command's ack body is posted as a message (ephemeral unless response_type is in_channel).
      return holdToSlackRules(result, (json) => (hasMessageContent(json) ? checkMessage(json) : null), options);
    },
    async interaction(payload, options = {}) {
      const result = await post(interactionBody(payload), FORM, options);
      return holdToSlackRules(result, (json) => checkInteractionAck(payload, json), options);
    },
    async event(event, options = {}) {
      const body = eventBody({
        teamId: requesterOptions.teamId ?? 'T0TEST',
        apiAppId: requesterOptions.apiAppId,
        botUserId: requesterOptions.botUserId,
        ...options.envelope,
        event,
      });
      return holdToSlackRules(await post(body, JSON_TYPE, options), () => null, options);
    },
    urlVerification(challenge, options = {}) {
      return post(urlVerificationBody(challenge), JSON_TYPE, options);
    },
    raw(body, headers, options = {}) {
      return post(body, headers['content-type'] ?? FORM, { ...options, headers: { ...headers, ...options.headers } });
    },
  };
}

/** view_submission acks may update or push a view; block_suggestion acks list options (at most 100). */
function checkInteractionAck(payload: Payload, json: Payload): SlackRefusal | null {
  if (payload.type === 'view_submission' && (json.response_action === 'update' || json.response_action === 'push')) {
    return checkView(json.view, ['modal']);
  }
  if (payload.type === 'block_suggestion') {
    const options = Array.isArray(json.options) ? json.options : Array.isArray(json.option_groups) ? json.option_groups : [];
    if (options.length > LIMITS.selectOptions) {
      return { error: 'invalid_options', problems: [{ pointer: '/options', message: `no more than ${LIMITS.selectOptions} items allowed` }] };
    }
  }
  return null;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isPayload(value: unknown): value is Payload {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
