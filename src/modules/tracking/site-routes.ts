import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';
import { z } from 'zod';
import { HttpError, readRawBody } from '../../http/read-json-body.ts';
import { sendJson, type Route } from '../../http/server.ts';
import type { Services } from '../../services.ts';
import { urlPath } from '../events/event-input.ts';
import { recentSiteOrigins } from '../workspaces/settings.ts';
import { classifyVisit } from './classify-activity.ts';
import type { SiteVisitWriter } from './site-visit-writer.ts';
import { readSiteKey, readVisitorToken } from './tracking-tokens.ts';

export const SITE_SNIPPET_PATH = '/t/s.js';
export const SITE_VISIT_PATH = '/t/v';

export const SITE_SNIPPET = readFileSync(new URL('./site-snippet.js', import.meta.url));
const SITE_SNIPPET_GZIP = gzipSync(SITE_SNIPPET, { level: 9 });
/** Sites embed the snippet on every page: browsers may keep it an hour, so a fix reaches them within one. */
const SNIPPET_MAX_AGE_SECONDS = 3600;

/** A visit is a few hundred bytes; anything far larger is not the snippet's. */
export const MAX_VISIT_BYTES = 8 * 1024;

export const SITE_VISIT_REFUSALS = {
  siteKey: 'the site key (data-site) is not valid: copy the snippet from /nurture site again',
  origin: 'this origin may not report visits: an admin adds it with /nurture site origins',
  tooLarge: `a visit is at most ${MAX_VISIT_BYTES / 1024} KB`,
  json: 'the body must be JSON',
  visitor: 'the visitor id is not valid',
  otherWorkspace: 'the visitor id belongs to another workspace',
} as const;

const PageUrlSchema = z
  .string()
  .max(2048, 'url is at most 2,048 characters')
  .refine((url) => URL.canParse(url) && /^https?:$/.test(new URL(url).protocol), 'url must be the http(s) address of the page');

const VisitCommonSchema = {
  visitor: z.string().min(1).max(2048),
  url: PageUrlSchema,
  session: z.string().regex(/^[A-Za-z0-9_-]{4,64}$/, 'session must be the snippet’s session id'),
};

/** What the snippet posts (site-snippet.js). */
export const SiteVisitSchema = z.discriminatedUnion('name', [
  z.object({ name: z.literal('page_view'), title: z.string().max(300).default(''), referrer: z.string().max(2048).default(''), ...VisitCommonSchema }).strict(),
  z.object({ name: z.literal('page_read'), seconds: z.number().int().min(0).max(86_400), ...VisitCommonSchema }).strict(),
]);
export type SiteVisit = z.infer<typeof SiteVisitSchema>;

/**
 * GET /t/s.js, the site snippet, and POST /t/v, where it reports page views and reads (OPTIONS for
 * preflights). The site key rides in the query (`/t/v?site=…`) so a preflight, which has no body, can
 * be answered for the workspace's own origins. A visit is checked in full (origin, size, shape, both
 * tokens of one workspace), answered 204, then handed to the writer: nothing is stored from a refused one.
 */
export function siteRoutes(services: Services, writer: SiteVisitWriter): Route[] {
  const secret = services.config.trackingSecret;

  /** The workspace and the origin allowed to call, or a refusal already answered. */
  async function allowedCaller(req: IncomingMessage, res: ServerResponse): Promise<{ teamId: string; origin: string } | undefined> {
    const site = readSiteKey(secret, new URL(req.url ?? '/', 'http://localhost').searchParams.get('site') ?? '');
    if (!site) return void sendJson(res, 400, { error: SITE_VISIT_REFUSALS.siteKey });
    const origin = req.headers.origin;
    if (!origin || !(await recentSiteOrigins(services.sql, site.w)).includes(origin)) return void sendJson(res, 403, { error: SITE_VISIT_REFUSALS.origin });
    return { teamId: site.w, origin };
  }

  return [
    {
      method: 'GET',
      path: SITE_SNIPPET_PATH,
      handler(req, res) {
        const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
        const body = gzip ? SITE_SNIPPET_GZIP : SITE_SNIPPET;
        res.writeHead(200, {
          'content-type': 'text/javascript; charset=utf-8',
          'content-length': body.length,
          'cache-control': `public, max-age=${SNIPPET_MAX_AGE_SECONDS}`,
          vary: 'Accept-Encoding',
          'x-content-type-options': 'nosniff',
          ...(gzip ? { 'content-encoding': 'gzip' } : {}),
        });
        res.end(req.method === 'HEAD' ? undefined : body);
      },
    },
    {
      method: 'OPTIONS',
      path: SITE_VISIT_PATH,
      async handler(req, res) {
        const caller = await allowedCaller(req, res);
        if (!caller) return;
        res.writeHead(204, {
          ...corsHeaders(caller.origin),
          'access-control-allow-methods': 'POST',
          'access-control-allow-headers': 'content-type',
          'access-control-max-age': '600',
        });
        res.end();
      },
    },
    {
      method: 'POST',
      path: SITE_VISIT_PATH,
      async handler(req, res) {
        const caller = await allowedCaller(req, res);
        if (!caller) return;
        const cors = corsHeaders(caller.origin);
        const refuse = (status: number, error: string) => {
          res.setHeader('access-control-allow-origin', cors['access-control-allow-origin']);
          res.setHeader('vary', cors.vary);
          sendJson(res, status, { error });
        };
        let json: unknown;
        try {
          // sendBeacon posts text/plain: the content type is not checked, the body must be JSON anyway.
          json = JSON.parse(await readRawBody(req, MAX_VISIT_BYTES, new HttpError(413, SITE_VISIT_REFUSALS.tooLarge)));
        } catch (error) {
          if (error instanceof HttpError) return refuse(error.status, error.message);
          return refuse(400, SITE_VISIT_REFUSALS.json);
        }
        const parsed = SiteVisitSchema.safeParse(json);
        if (!parsed.success) {
          const issue = parsed.error.issues[0]!;
          return refuse(400, issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message);
        }
        const visitor = readVisitorToken(secret, parsed.data.visitor);
        if (!visitor) return refuse(400, SITE_VISIT_REFUSALS.visitor);
        if (visitor.w !== caller.teamId) return refuse(400, SITE_VISIT_REFUSALS.otherWorkspace);
        res.writeHead(204, cors);
        res.end();
        try {
          const verdict = classifyVisit(req.headers['user-agent']);
          writer.record({
            team_id: caller.teamId,
            lead_id: visitor.l,
            name: parsed.data.name,
            properties: visitProperties(parsed.data),
            url_path: urlPath(parsed.data.url),
            occurred_at: services.clock.now().toISOString(),
            verdict: verdict.verdict,
            verdict_reason: verdict.reason,
          });
        } catch (error) {
          services.logger.error({ err: error }, 'site visit not recorded');
        }
      },
    },
  ];
}

/** The event's properties as events.properties keeps them (event-input.ts: page_view and page_read). */
function visitProperties(visit: SiteVisit): Record<string, unknown> {
  return visit.name === 'page_view'
    ? { url: visit.url, title: visit.title, referrer: visit.referrer, session: visit.session }
    : { url: visit.url, seconds: visit.seconds, session: visit.session };
}

function corsHeaders(origin: string) {
  return { 'access-control-allow-origin': origin, vary: 'Origin' };
}
