import type { IncomingMessage } from 'node:http';
import { Resend } from 'resend';
import { HttpError, readRawBody } from '../../http/read-json-body.ts';
import { sendJson, type Route } from '../../http/server.ts';
import type { Services } from '../../services.ts';
import { processWebhookQueue } from './process-webhook-queue.ts';
import { parseResendWebhook } from './resend-webhook-event.ts';
import { storeWebhook } from './queries.ts';

export const RESEND_WEBHOOK_PATH = '/webhooks/resend';
/** Resend's email events are a few kB; anything near this is not from Resend. */
export const WEBHOOK_BODY_LIMIT_BYTES = 256 * 1024;

export const NO_WEBHOOK_SECRET =
  'RESEND_WEBHOOK_SECRET is not set on this server, so webhooks cannot be verified; Resend retries for about a day';

/**
 * POST /webhooks/resend: verifies Resend's (Svix) signature over the raw body, stores the event once per
 * svix-id and queues its processing, then answers at once. Stored and queued agree: when queueing fails
 * the answer is 503 and Resend's retry (same svix-id, stored but not processed) queues it again.
 */
export function resendWebhookRoute(services: Services): Route {
  // verify() is an offline HMAC check; the client only insists on being given some API key.
  const webhooks = new Resend(services.config.resend.apiKey ?? 're_verify_only').webhooks;
  let warnedNoSecret = false;
  return {
    method: 'POST',
    path: RESEND_WEBHOOK_PATH,
    async handler(req, res) {
      const webhookSecret = services.config.resend.webhookSecret;
      if (!webhookSecret) {
        if (!warnedNoSecret) {
          warnedNoSecret = true;
          services.logger.warn(
            { path: RESEND_WEBHOOK_PATH },
            'Resend webhooks are arriving but RESEND_WEBHOOK_SECRET is not set: they are refused (503) and bounces, complaints, opens and clicks are not recorded. Set it to the signing secret of the endpoint in Resend → Webhooks.',
          );
        }
        return sendJson(res, 503, { error: NO_WEBHOOK_SECRET });
      }
      const headers = svixHeaders(req);
      if (!headers) return sendJson(res, 401, { error: 'missing svix-id, svix-timestamp or svix-signature header' });

      let payload: unknown;
      try {
        const body = await readRawBody(req, WEBHOOK_BODY_LIMIT_BYTES, new HttpError(413, `the body is larger than ${WEBHOOK_BODY_LIMIT_BYTES / 1024} kB`));
        payload = webhooks.verify({ payload: body, headers, webhookSecret });
      } catch (error) {
        if (error instanceof HttpError) return sendJson(res, error.status, { error: error.message });
        // verify() parses the body once the signature matched.
        if (error instanceof SyntaxError) return sendJson(res, 400, { error: `the body is not valid JSON: ${error.message}` });
        if ((error as Error).name === 'WebhookVerificationError') return sendJson(res, 401, { error: `invalid webhook signature: ${(error as Error).message}` });
        throw error;
      }

      const parsed = parseResendWebhook(payload);
      if (!parsed.ok) return sendJson(res, 400, { error: 'not a Resend webhook payload', problems: parsed.problems });
      const stored = await storeWebhook(services.sql, {
        svixId: headers.id,
        teamTag: parsed.teamTag,
        eventType: parsed.type,
        payload,
        // Types Nurture does not act on are kept for the record and never queued.
        ...(parsed.event ? {} : { done: 'ignored' }),
      });
      if (stored.pending) {
        try {
          await services.enqueue(processWebhookQueue, { svixId: headers.id });
        } catch (error) {
          services.logger.error({ err: error, svixId: headers.id }, 'resend webhook stored but not queued; answering 503 so Resend retries');
          return sendJson(res, 503, { error: 'stored, but could not be queued for processing; retry' });
        }
      }
      sendJson(res, 200, { received: true, ...(stored.inserted ? {} : { duplicate: true }) });
    },
  };
}

function svixHeaders(req: IncomingMessage): { id: string; timestamp: string; signature: string } | undefined {
  const id = req.headers['svix-id'];
  const timestamp = req.headers['svix-timestamp'];
  const signature = req.headers['svix-signature'];
  if (typeof id !== 'string' || typeof timestamp !== 'string' || typeof signature !== 'string' || !id || !timestamp || !signature) return undefined;
  return { id, timestamp, signature };
}

