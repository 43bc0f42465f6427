import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Route } from '../../http/server.ts';
import { newReferenceId } from '../../lib/reference-id.ts';
import type { Services } from '../../services.ts';
import type { UnsubscribeMethod } from './queries.ts';
import { findLeadForUnsubscribe } from './queries.ts';
import { unsubscribeLead } from './unsubscribe-lead.ts';
import { buildConfirmPage, buildDonePage, buildErrorPage, CONFIRM_FIELD, maskEmail, pageLanguage, senderName, type PageContext } from './unsubscribe-pages.ts';
import { readUnsubscribeToken } from './unsubscribe-token.ts';

/** Enough for `List-Unsubscribe=One-Click` or our form's one field; the rest of a larger body is drained unread. */
const BODY_LIMIT_BYTES = 16 * 1024;

/**
 * GET /u/<token> shows a page with one confirm button and changes nothing (link scanners and mail
 * previews follow GETs); POST /u/<token> unsubscribes at once: the mail client's RFC 8058 one-click request,
 * or that confirm button. Both answer HTML pages, never a stack trace.
 */
export function unsubscribeRoutes(services: Services): Route[] {
  return [
    { method: 'GET', path: '/u/:token', handler: (req, res, params) => answer(services, req, res, () => showPage(services, req, params.token!)) },
    {
      method: 'POST',
      path: '/u/:token',
      async handler(req, res, params) {
        const body = await readSmallBody(req);
        await answer(services, req, res, () => unsubscribe(services, req, params.token!, body));
      },
    },
  ];
}

interface PageAnswer {
  status: number;
  html: string;
}

async function showPage(services: Services, req: IncomingMessage, token: string): Promise<PageAnswer> {
  const verified = readUnsubscribeToken(services.config.trackingSecret, token);
  if (!verified.ok) return invalidLink(req);
  const lead = await findLeadForUnsubscribe(services.sql, verified.target.teamId, verified.target.leadId);
  if (!lead) return unknownLead(req);
  const context = pageContext(services, req, lead);
  if (lead.status === 'unsubscribed') return { status: 200, html: buildDonePage({ ...context, already: true }) };
  return { status: 200, html: buildConfirmPage(context) };
}

async function unsubscribe(services: Services, req: IncomingMessage, token: string, body: string): Promise<PageAnswer> {
  const verified = readUnsubscribeToken(services.config.trackingSecret, token);
  if (!verified.ok) {
    services.logger.info({ reason: verified.reason }, 'unsubscribe refused: invalid link');
    return invalidLink(req);
  }
  const method = requestMethod(req, body);
  const userAgent = req.headers['user-agent'];
  const result = await unsubscribeLead(services.sql, verified.target, userAgent ? { method, userAgent } : { method });
  if (result.outcome === 'unknown-lead') return unknownLead(req);
  services.logger.info({ teamId: verified.target.teamId, leadId: verified.target.leadId, sendId: verified.target.sendId, method, outcome: result.outcome }, 'unsubscribe');
  return { status: 200, html: buildDonePage({ ...pageContext(services, req, result.lead), already: result.outcome === 'already-unsubscribed' }) };
}

/** Our confirm button posts its field; anything else is a mail client's one-click request. */
function requestMethod(req: IncomingMessage, body: string): UnsubscribeMethod {
  const type = req.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') return 'one_click';
  return new URLSearchParams(body).get(CONFIRM_FIELD.name) === CONFIRM_FIELD.value ? 'page' : 'one_click';
}

function pageContext(services: Services, req: IncomingMessage, lead: { email: string; locale: string | null }): PageContext {
  return { lang: pageLanguage(lead.locale, req.headers['accept-language']), sender: senderName(services.config.resend.from), maskedEmail: maskEmail(lead.email) };
}

const invalidLink = (req: IncomingMessage): PageAnswer => ({ status: 400, html: buildErrorPage(pageLanguage(undefined, req.headers['accept-language']), 'invalid') });
const unknownLead = (req: IncomingMessage): PageAnswer => ({ status: 404, html: buildErrorPage(pageLanguage(undefined, req.headers['accept-language']), 'unknown') });

/** Runs a page handler; an unexpected failure is logged with a reference and shown as a plain page (a one-click POST that gets 500 is retried by the mail provider). */
async function answer(services: Services, req: IncomingMessage, res: ServerResponse, build: () => Promise<PageAnswer>): Promise<void> {
  let page: PageAnswer;
  try {
    page = await build();
  } catch (error) {
    const referenceId = newReferenceId();
    services.logger.error({ err: error, referenceId, method: req.method, path: '/u/:token' }, 'unsubscribe page failed');
    page = { status: 500, html: buildErrorPage(pageLanguage(undefined, req.headers['accept-language']), 'failed', referenceId) };
  }
  sendHtml(res, page);
}

function sendHtml(res: ServerResponse, page: PageAnswer): void {
  res.writeHead(page.status, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': Buffer.byteLength(page.html),
    'cache-control': 'no-store',
    // The token in the URL must not leak to other sites, and the one-button page must not be framed (clickjacking).
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
    'x-content-type-options': 'nosniff',
    'x-robots-tag': 'noindex',
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  });
  res.end(page.html);
}

async function readSmallBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    if (size < BODY_LIMIT_BYTES) chunks.push(chunk);
    size += chunk.length;
  }
  return Buffer.concat(chunks).subarray(0, BODY_LIMIT_BYTES).toString('utf8');
}
