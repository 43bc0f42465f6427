import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Route } from '../../http/server.ts';
import type { Services } from '../../services.ts';
import { classifyActivity, type Verdict } from './classify-activity.ts';
import type { TrackingEvent, TrackingWriter } from './tracking-writer.ts';
import { readClickToken, readEmailToken, VISITOR_PARAMETER, type EmailToken, type LinkToken } from './tracking-tokens.ts';

/** The smallest transparent GIF (1×1). */
export const PIXEL_GIF = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

const PIXEL_HEADERS = {
  'content-type': 'image/gif',
  'content-length': PIXEL_GIF.length,
  // Every open must reach us: no browser, proxy or mail client may answer from a cache.
  'cache-control': 'no-store, no-cache, must-revalidate, private, max-age=0',
  pragma: 'no-cache',
  expires: '0',
};

export const INVALID_LINK_PAGE =
  '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Link not valid</title></head><body><p>This link is not valid: it may have been cut short or changed. Please use the link in the email as it was sent.</p></body></html>';
const HIDDEN_LINK_PAGE = '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Nothing here</title></head><body></body></html>';

/**
 * GET /t/o/<email token>.gif (the open pixel) and GET /t/c/<link token>.<email token> (a click), HEAD
 * too. Both answer first and then hand the event to the writer; nothing after the answer can fail the
 * recipient, and no database call is made on the way. A click redirects only to an address a verified
 * link token names: a bad token gets a plain 400 page, never a redirect.
 */
export function trackingRoutes(services: Services, writer: TrackingWriter): Route[] {
  const secret = services.config.trackingSecret;
  const record = (what: () => void) => {
    try {
      what();
    } catch (error) {
      services.logger.error({ err: error }, 'tracking event not recorded');
    }
  };

  return [
    {
      method: 'GET',
      path: '/t/o/:file',
      handler(req, res, params) {
        res.writeHead(200, PIXEL_HEADERS);
        res.end(req.method === 'HEAD' ? undefined : PIXEL_GIF);
        const file = params.file!;
        const email = file.endsWith('.gif') ? readEmailToken(secret, file.slice(0, -'.gif'.length)) : undefined;
        if (!email) return;
        record(() => {
          const at = services.clock.now();
          const verdict = classifyActivity({ kind: 'open', hiddenLink: false, method: req.method ?? 'GET', userAgent: req.headers['user-agent'], ip: clientIp(req), sentAt: sentAt(email), at });
          writer.record(eventOf(email, 'email_opened', undefined, at, verdict), email.n);
        });
      },
    },
    {
      method: 'GET',
      path: '/t/c/:token',
      handler(req, res, params) {
        const click = readClickToken(secret, params.token!);
        if (!click) return sendPage(res, 400, INVALID_LINK_PAGE);
        const { email, link } = click;
        if ('h' in link) sendPage(res, 200, HIDDEN_LINK_PAGE);
        else {
          // The visitor id is the click's own email token: verified just now, it names the lead (readVisitorToken).
          res.writeHead(302, { location: redirectTo(link, click.emailToken), 'cache-control': 'no-store', 'referrer-policy': 'no-referrer', 'content-length': 0 });
          res.end();
        }
        record(() => {
          const at = services.clock.now();
          const verdict = classifyActivity({ kind: 'click', hiddenLink: 'h' in link, method: req.method ?? 'GET', userAgent: req.headers['user-agent'], ip: clientIp(req), sentAt: sentAt(email), at });
          writer.record(eventOf(email, 'email_clicked', 'u' in link ? link.u : undefined, at, verdict), email.n);
        });
      },
    },
  ];
}

/**
 * The destination with the visitor id set (replacing one the address may carry), as URLSearchParams.set
 * writes it. The address around the id is worked out once per link (readClickToken hands back the same
 * LinkToken for the same link), not parsed again on every click.
 */
const redirects = new WeakMap<LinkToken, { before: string; after: string }>();

function redirectTo(link: { v: string; u: string }, visitorToken: string): string {
  let around = redirects.get(link);
  while (!around) {
    // A random stand-in for the token (letters and digits, written as is): found once, it marks the spot.
    const placeholder = randomBytes(16).toString('hex');
    const destination = new URL(link.u);
    destination.searchParams.set(VISITOR_PARAMETER, placeholder);
    const parts = destination.href.split(placeholder);
    if (parts.length === 2) redirects.set(link, (around = { before: parts[0]!, after: parts[1]! }));
  }
  return around.before + visitorToken + around.after;
}

/** Built in one go (no spreads): every open and click makes one. */
function eventOf(email: EmailToken, name: TrackingEvent['name'], url: string | undefined, at: Date, verdict: Verdict): TrackingEvent {
  return { teamId: email.w, leadId: email.l, sendId: email.s, name, url, occurredAt: at, verdict };
}

const sentAt = (email: EmailToken) => new Date(email.t * 1000);

/**
 * Behind a load balancer the client is the first X-Forwarded-For entry. A client can forge it, but only
 * to make its own activity look like a machine's, which counts for less.
 */
function clientIp(req: IncomingMessage): string | undefined {
  const forwarded = req.headers['x-forwarded-for'];
  const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim();
  return first || req.socket.remoteAddress;
}

function sendPage(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(html),
    'cache-control': 'no-store',
    'referrer-policy': 'no-referrer',
    'x-robots-tag': 'noindex',
    'x-content-type-options': 'nosniff',
  });
  res.end(html);
}
