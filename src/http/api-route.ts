import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { UserFacingError } from '../lib/errors.ts';
import { authenticateApiKey } from '../modules/api-keys/api-keys.ts';
import type { Services } from '../services.ts';
import { HttpError, readJsonBody } from './read-json-body.ts';
import { sendJson, type Route } from './server.ts';

export interface ApiRequest {
  teamId: string;
  body: unknown;
}

export interface ApiRouteDefinition {
  path: string;
  /** Bodies larger than this are refused with 413 while they stream in. */
  limitBytes: number;
  handle(request: ApiRequest): Promise<{ status: number; body: unknown }>;
}

/**
 * A POST endpoint of the public API: bearer key → workspace, JSON body within a limit, and every
 * refusal as JSON `{ error, problems? }` with the status that says whose fault it was.
 */
export function apiRoute(services: Services, definition: ApiRouteDefinition): Route {
  return {
    method: 'POST',
    path: definition.path,
    async handler(req, res) {
      try {
        const team = await authenticate(services, req);
        const body = await readJsonBody(req, definition.limitBytes);
        const result = await definition.handle({ teamId: team.teamId, body });
        sendJson(res, result.status, result.body);
      } catch (error) {
        if (error instanceof HttpError) return refuse(res, error.status, error.message, error.problems);
        if (error instanceof UserFacingError) return refuse(res, 400, error.message);
        throw error;
      }
    },
  };
}

async function authenticate(services: Services, req: IncomingMessage): Promise<{ teamId: string }> {
  const header = req.headers.authorization ?? '';
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match) throw new HttpError(401, 'send your API key as "Authorization: Bearer <key>" (admins create keys with /nurture apikey create)');
  const team = await authenticateApiKey(services.sql, match[1]!);
  if (!team) throw new HttpError(401, 'this API key is not valid: it is mistyped or was revoked');
  return team;
}

function refuse(res: ServerResponse, status: number, error: string, problems?: string[]) {
  if (status === 401) res.setHeader('www-authenticate', 'Bearer');
  sendJson(res, status, problems ? { error, problems } : { error });
}

export interface Batch {
  items: unknown[];
  /** The body was one item, not a list: an invalid one answers 400 rather than a per-item error. */
  single: boolean;
}

/**
 * The envelope every ingest endpoint accepts: one item (an object with `marker`), an array, or
 * `{ [listKey]: [...] }`, with at most `max` items.
 */
export function readBatch(body: unknown, shape: { noun: string; listKey: string; marker: string; max: number }): Batch {
  const single = typeof body === 'object' && body !== null && !Array.isArray(body) && shape.marker in body;
  const items = single ? [body] : z.union([z.array(z.unknown()), z.object({ [shape.listKey]: z.array(z.unknown()) }).transform((wrapped) => wrapped[shape.listKey] as unknown[])]).safeParse(body).data;
  if (!items) throw new HttpError(400, `send a ${shape.noun} object with "${shape.marker}", an array of ${shape.noun}s, or { "${shape.listKey}": [...] }`);
  if (items.length === 0) throw new HttpError(400, 'the batch is empty');
  if (items.length > shape.max) throw new HttpError(413, `at most ${shape.max} ${shape.noun}s per request; this one has ${items.length}`);
  return { items, single };
}
