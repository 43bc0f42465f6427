import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../lib/logger.ts';
import { newReferenceId } from '../lib/reference-id.ts';

export type RouteHandler = (req: IncomingMessage, res: ServerResponse, params: Record<string, string>) => unknown;

export interface Route {
  readonly method: 'GET' | 'POST' | 'HEAD' | 'OPTIONS';
  /** Exact path, or with `:name` segments, e.g. `/t/c/:token`. */
  readonly path: string;
  readonly handler: RouteHandler;
}

export interface HttpServer {
  readonly server: http.Server;
  listen(port: number): Promise<number>;
  /** Stops accepting connections and waits for in-flight requests. */
  close(): Promise<void>;
}

/**
 * One Node HTTP server per process: our route table (health, tracking, webhooks, API), with
 * POST /slack/events handed to Bolt's receiver in HTTP mode.
 */
export function createHttpServer(routes: readonly Route[], logger: Logger, slackListener?: { path: string; listener: http.RequestListener }): HttpServer {
  const compiled = routes.map((route) => ({ ...route, match: compilePath(route.path) }));

  const server = http.createServer((req, res) => {
    const pathname = pathOf(req.url);
    if (slackListener && pathname === slackListener.path) {
      slackListener.listener(req, res);
      return;
    }
    const method = req.method === 'HEAD' ? 'GET' : req.method;
    let pathMatched = false;
    for (const route of compiled) {
      const params = route.match(pathname);
      if (!params) continue;
      pathMatched = true;
      if (route.method !== req.method && route.method !== method) continue;
      // Only an answer that is a promise is waited for: the tracking handlers answer synchronously.
      try {
        const answered = route.handler(req, res, params);
        if (answered instanceof Promise) answered.catch((error: unknown) => handlerFailed(logger, req, res, route.path, error));
      } catch (error) {
        handlerFailed(logger, req, res, route.path, error);
      }
      return;
    }
    if (pathMatched) sendJson(res, 405, { error: `${req.method} is not allowed here` });
    else sendJson(res, 404, { error: 'not found' });
  });
  // Slack and load balancers keep connections alive; let shutdown end idle ones promptly.
  server.keepAliveTimeout = 65_000;

  return {
    server,
    listen(port) {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, () => {
          server.off('error', reject);
          resolve((server.address() as AddressInfo).port);
        });
      });
    },
    close() {
      return new Promise((resolve) => {
        if (!server.listening) return resolve();
        server.close(() => resolve());
        server.closeIdleConnections();
      });
    },
  };
}

function handlerFailed(logger: Logger, req: IncomingMessage, res: ServerResponse, path: string, error: unknown): void {
  const referenceId = newReferenceId();
  logger.error({ err: error, referenceId, method: req.method, path }, 'http handler failed');
  if (!res.headersSent) sendJson(res, 500, { error: 'internal error', reference: referenceId });
  else res.end();
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

/**
 * The request's path as the URL parser would give it. Most (every tracking hit) are plain: segments of
 * unreserved characters, none a dot segment, nothing to decode. Those are their own pathname and skip
 * the parser and the per-route decoding; anything else goes through it.
 */
function pathOf(target: string | undefined): string {
  if (target === undefined) return '/';
  const query = target.indexOf('?');
  const path = query === -1 ? target : target.slice(0, query);
  return PLAIN_PATH.test(path) ? path : new URL(target, 'http://localhost').pathname;
}
const PLAIN_PATH = /^(?:(?:\/[A-Za-z0-9_~-][A-Za-z0-9._~-]*)+\/?|\/)$/;

function compilePath(pattern: string): (path: string) => Record<string, string> | undefined {
  // The literal start of the pattern (`/t/c/`): most routes are told apart by it without the regex.
  const prefix = pattern.split(':')[0]!;
  const names: string[] = [];
  const regex = new RegExp(
    `^${pattern
      .split('/')
      .map((segment) => {
        if (!segment.startsWith(':')) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        names.push(segment.slice(1));
        return '([^/]+)';
      })
      .join('/')}$`,
  );
  return (path) => {
    if (!path.startsWith(prefix)) return undefined;
    const match = regex.exec(path);
    if (!match) return undefined;
    const params: Record<string, string> = {};
    for (let i = 0; i < names.length; i++) params[names[i]!] = safeDecode(match[i + 1]!);
    return params;
  };
}

/** A malformed escape (`/u/%E0%A4%A`) is passed on as written for the handler to refuse, instead of throwing outside every try. */
function safeDecode(segment: string): string {
  if (!segment.includes('%')) return segment;
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
