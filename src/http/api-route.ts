import type { IncomingMessage, ServerResponse } from 'node:http';
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
