import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import type {
  EmailBouncedEvent,
  EmailClickedEvent,
  EmailComplainedEvent,
  EmailDeliveredEvent,
  EmailDeliveryDelayedEvent,
  EmailFailedEvent,
  EmailOpenedEvent,
  EmailSentEvent,
  EmailSuppressedEvent,
} from 'resend';

/**
 * Resend's webhooks as they arrive: signed the Svix way, with the payload shapes of Resend's docs
 * (resend.com/docs/webhooks/emails/*) and of the SDK's event types.
 *
 *   const secret = newWebhookSecret();
 *   const event = buildResendEvent('email.bounced', fake.emails[0]!, { bounceType: 'hard' });
 *   const response = await postResendWebhook(`${app.url}/webhooks/resend`, event, { secret });
 *
 * Signature: headers svix-id, svix-timestamp (Unix seconds) and svix-signature = `v1,` + base64 of
 * HMAC-SHA256 over `{id}.{timestamp}.{raw body}`, keyed by base64-decoding the secret after `whsec_`.
 * Receivers accept ±5 minutes of clock skew. Resend retries a failed delivery (for about a day) with the
 * same svix-id, so receivers deduplicate on it.
 */

export type ResendEmailEventType =
  | 'email.sent'
  | 'email.delivered'
  | 'email.delivery_delayed'
  | 'email.bounced'
  | 'email.complained'
  | 'email.opened'
  | 'email.clicked'
  | 'email.failed'
  | 'email.suppressed';

export interface ResendWebhookHeaders {
  'svix-id': string;
  'svix-timestamp': string;
  'svix-signature': string;
}

/** The email an event is about. A RecordedEmail of the fake Resend fits as it is. */
export interface WebhookEmail {
  id: string;
  from: string;
  to: string | readonly string[];
  subject: string;
  /** Sent as tags; events carry them as an object of name → value. */
  tags?: readonly { name: string; value: string }[] | Readonly<Record<string, string>>;
  /** When Resend created the email (data.created_at); else receivedAt, else now. */
  createdAt?: Date;
  receivedAt?: Date;
  broadcastId?: string;
  templateId?: string;
  /** The Message-ID header Resend gave it (default derived from the id). */
  messageId?: string;
}

export interface EventOptions {
  /** When the event happened (top-level created_at); default now. */
  at?: Date;
}

export interface BounceDetails extends EventOptions {
  /**
   * hard → type "Permanent" (the address will never work), soft → "Transient". Resend's docs list
   * Permanent, Transient and Undetermined; temporary trouble mostly arrives as email.delivery_delayed.
   */
  bounceType: 'hard' | 'soft';
  /** Default "General"; Resend's examples show e.g. "Suppressed", "MessageRejected", "MailboxFull". */
  subType?: string;
  message?: string;
  /** SMTP responses of the receiving server, e.g. `smtp; 550 5.1.1 user unknown`. */
  diagnosticCode?: string[];
}

export interface ClickDetails extends EventOptions {
  link: string;
  ipAddress?: string;
  userAgent?: string;
  /** When the click happened (default: the event time). */
  timestamp?: Date;
}

export interface FailedDetails extends EventOptions {
  /** e.g. "reached_daily_quota" (Resend's example). */
  reason?: string;
}

export interface SuppressedDetails extends EventOptions {
  /** e.g. "OnAccountSuppressionList" (Resend's example). */
  type?: string;
  message?: string;
}

interface EventDetails {
  'email.sent': EventOptions;
  'email.delivered': EventOptions;
  'email.delivery_delayed': EventOptions;
  'email.bounced': BounceDetails;
  'email.complained': EventOptions;
  'email.opened': EventOptions;
  'email.clicked': ClickDetails;
  'email.failed': FailedDetails;
  'email.suppressed': SuppressedDetails;
}

/** Resend's docs list bounce.diagnosticCode; the SDK's type does not (yet). */
export type ResendBouncedEvent = EmailBouncedEvent & { data: { bounce: { diagnosticCode?: string[] } } };

export interface ResendEventPayloads {
  'email.sent': EmailSentEvent;
  'email.delivered': EmailDeliveredEvent;
  'email.delivery_delayed': EmailDeliveryDelayedEvent;
  'email.bounced': ResendBouncedEvent;
  'email.complained': EmailComplainedEvent;
  'email.opened': EmailOpenedEvent;
  'email.clicked': EmailClickedEvent;
  'email.failed': EmailFailedEvent;
  'email.suppressed': EmailSuppressedEvent;
}

export type ResendEmailEvent = ResendEventPayloads[ResendEmailEventType];

const DEFAULT_BOUNCE_MESSAGES = {
  hard: "The recipient's email provider sent a hard bounce message, meaning the email address does not exist.",
  soft: "The recipient's email provider sent a soft bounce message; the mailbox may be full or temporarily unavailable.",
};

/** A fresh signing secret in Resend's format: `whsec_` + base64 of 24 random bytes. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`;
}

/** The Svix headers Resend sends with `body` (the exact string posted). Timestamp in Unix seconds, default now. */
export function signResendWebhook({ secret, id, timestamp, body }: { secret: string; id: string; timestamp?: number | Date; body: string }): ResendWebhookHeaders {
  const seconds = timestamp === undefined ? Math.floor(Date.now() / 1000) : timestamp instanceof Date ? Math.floor(timestamp.getTime() / 1000) : Math.floor(timestamp);
  const key = Buffer.from(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret, 'base64');
  if (key.length === 0) throw new Error('signResendWebhook: the secret decodes to no bytes (expected whsec_ + base64)');
  const signature = createHmac('sha256', key).update(`${id}.${seconds}.${body}`).digest('base64');
  return { 'svix-id': id, 'svix-timestamp': String(seconds), 'svix-signature': `v1,${signature}` };
}

/** The headers in the shape `resend.webhooks.verify({ headers })` takes. */
export function webhookVerifyHeaders(headers: ResendWebhookHeaders): { id: string; timestamp: string; signature: string } {
  return { id: headers['svix-id'], timestamp: headers['svix-timestamp'], signature: headers['svix-signature'] };
}

/** The payload Resend posts for `type` about `email`; the third argument is required where Resend adds details (bounce, click). */
export function buildResendEvent<T extends ResendEmailEventType>(
  type: T,
  email: WebhookEmail,
  ...[details]: EventOptions extends EventDetails[T] ? [details?: EventDetails[T]] : [details: EventDetails[T]]
): ResendEventPayloads[T] {
  const at = details?.at ?? new Date();
  const data: Record<string, unknown> = {
    ...(email.broadcastId ? { broadcast_id: email.broadcastId } : {}),
    created_at: (email.createdAt ?? email.receivedAt ?? at).toISOString(),
    email_id: email.id,
    message_id: email.messageId ?? `<${email.id}@email.resend.fake>`,
    from: email.from,
    to: typeof email.to === 'string' ? [email.to] : [...email.to],
    subject: email.subject,
    ...(email.templateId ? { template_id: email.templateId } : {}),
  };
  const tags = tagObject(email.tags);
  if (tags !== undefined) data.tags = tags;

  if (type === 'email.bounced') {
    const bounce = details as BounceDetails;
    data.bounce = {
      ...(bounce.diagnosticCode ? { diagnosticCode: bounce.diagnosticCode } : {}),
      message: bounce.message ?? DEFAULT_BOUNCE_MESSAGES[bounce.bounceType],
      subType: bounce.subType ?? 'General',
      type: bounce.bounceType === 'hard' ? 'Permanent' : 'Transient',
    };
  } else if (type === 'email.clicked') {
    const click = details as ClickDetails;
    data.click = {
      ipAddress: click.ipAddress ?? '203.0.113.7',
      link: click.link,
      timestamp: (click.timestamp ?? at).toISOString(),
      userAgent: click.userAgent ?? 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15',
    };
  } else if (type === 'email.failed') {
    data.failed = { reason: (details as FailedDetails | undefined)?.reason ?? 'reached_daily_quota' };
  } else if (type === 'email.suppressed') {
    const suppressed = details as SuppressedDetails | undefined;
    data.suppressed = {
      message:
        suppressed?.message ??
        'Resend has suppressed sending to this address because it is on the account-level suppression list. This does not count toward your bounce rate metric',
      type: suppressed?.type ?? 'OnAccountSuppressionList',
    };
  }
  return { type, created_at: at.toISOString(), data } as unknown as ResendEventPayloads[T];
}

export interface PostWebhookOptions {
  secret: string;
  /** svix-id; Resend keeps it across retries of one event. Default a fresh msg_… id. */
  id?: string;
  /** Unix seconds (or a Date) to sign with; default now. */
  timestamp?: number | Date;
  /** Sign ten minutes in the past, outside the ±5-minute tolerance. */
  stale?: boolean;
  /** Change the body after signing (default: adds a field), as a forger would. */
  tamper?: boolean | ((signedBody: string) => string);
  /** Sign with this secret instead (a wrong or rotated one) while still posting to `url`. */
  signWith?: string;
}

/** Posts `payload` (an object, or the exact JSON string) to `url` the way Resend (through Svix) does. */
export async function postResendWebhook(url: string, payload: object | string, options: PostWebhookOptions): Promise<Response> {
  const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
  const id = options.id ?? `msg_${randomUUID().replaceAll('-', '').slice(0, 27)}`;
  const timestamp = options.stale ? Math.floor(Date.now() / 1000) - 10 * 60 : options.timestamp;
  const headers = signResendWebhook({ secret: options.signWith ?? options.secret, id, timestamp, body });
  const sent = options.tamper === undefined || options.tamper === false ? body : typeof options.tamper === 'function' ? options.tamper(body) : tamperWith(body);
  return fetch(url, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json', 'user-agent': 'Svix-Webhooks/1.76.1 (sender-fake; +https://www.svix.com/http-sender/)' },
    body: sent,
  });
}

function tamperWith(body: string): string {
  const end = body.lastIndexOf('}');
  return end === -1 ? `${body} ` : `${body.slice(0, end)}${body.slice(0, end).trimEnd().endsWith('{') ? '' : ','}"tampered":true}`;
}

function tagObject(tags: WebhookEmail['tags']): Record<string, string> | undefined {
  if (tags === undefined) return undefined;
  if (Array.isArray(tags)) return Object.fromEntries((tags as readonly { name: string; value: string }[]).map((tag) => [tag.name, tag.value]));
  return { ...(tags as Readonly<Record<string, string>>) };
}
