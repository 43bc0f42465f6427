import type { Role } from '../config.ts';
import type { Sql } from '../db/client.ts';
import type { QueueSystem } from '../queue/queue-system.ts';
import { sendJson, type Route } from './server.ts';

export interface Readiness {
  /** False while starting and once shutdown begins, so load balancers stop sending traffic. */
  ready: boolean;
}

/** GET /healthz: 200 with database and queue status when this process can do its work, 503 otherwise. */
export function healthRoute(deps: { sql: Sql; queues: QueueSystem; role: Role; readiness: Readiness; version: string }): Route {
  return {
    method: 'GET',
    path: '/healthz',
    async handler(_req, res) {
      if (!deps.readiness.ready) return sendJson(res, 503, { status: 'unavailable', reason: 'starting or shutting down', role: deps.role });
      const started = performance.now();
      const database = await withTimeout(deps.sql`SELECT 1`, 2000)
        .then(() => ({ ok: true, latencyMs: Math.round(performance.now() - started) }))
        .catch((error: Error) => ({ ok: false, error: error.message }));
      const queue = database.ok
        ? await withTimeout(deps.queues.status(), 2000).catch((error: Error) => ({ ok: false as const, error: error.message }))
        : { ok: false, error: 'database unavailable' };
      const ok = database.ok && queue.ok;
      sendJson(res, ok ? 200 : 503, { status: ok ? 'ok' : 'degraded', role: deps.role, version: deps.version, database, queue });
    },
  };
}

function withTimeout<T>(promise: PromiseLike<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    Promise.resolve(promise).finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]);
}
