import { request } from 'node:http';
import vm from 'node:vm';
import type { Answer } from './tracking-support.ts';

export interface Beacon {
  url: string;
  body: string;
}

export interface SnippetPage {
  /** What the snippet handed to navigator.sendBeacon, in order. */
  readonly beacons: Beacon[];
  /** The address bar now. */
  readonly href: () => string;
  readonly localStorage: Map<string, string>;
  readonly cookie: () => string;
  /** Moves the page's clock (Date.now) forward. */
  advance(ms: number): void;
  hide(): void;
  show(): void;
  leave(): void;
}

export interface SnippetPageOptions {
  href: string;
  /** The script tag's src, e.g. https://nurture.test/t/s.js */
  scriptSrc: string;
  siteKey: string;
  title?: string;
  referrer?: string;
  /** localStorage throws (Safari's private mode, blocked storage): the snippet falls back to a cookie. */
  storageBlocked?: boolean;
  /** What the page already stored (a return visit). */
  stored?: Map<string, string>;
  /** The tab's sessionStorage, shared by the pages of one tab. */
  tab?: Map<string, string>;
  /** The page's clock (Date.now) at load. */
  at?: number;
}

/**
 * Runs the snippet's source in Node's vm with the least of a browser it needs: location, history,
 * storage, cookies, visibility events and sendBeacon (recorded, not sent). The real browser is site-browser.test.ts.
 */
export function runSnippet(source: string, options: SnippetPageOptions): SnippetPage {
  let href = options.href;
  let now = options.at ?? Date.parse('2026-03-02T10:00:00Z');
  const beacons: Beacon[] = [];
  const localStore = options.stored ?? new Map<string, string>();
  const sessionStore = options.tab ?? new Map<string, string>();
  const cookies = new Map<string, string>();
  const listeners = new Map<string, Array<() => void>>();
  const on = (target: string) => (type: string, listener: () => void) => listeners.set(`${target}:${type}`, [...(listeners.get(`${target}:${type}`) ?? []), listener]);
  const fire = (target: string, type: string) => {
    for (const listener of listeners.get(`${target}:${type}`) ?? []) listener();
  };
  const storage = (map: Map<string, string>) => ({
    getItem: (key: string) => map.get(key) ?? null,
    setItem: (key: string, value: string) => void map.set(key, String(value)),
  });

  const document = {
    currentScript: { src: options.scriptSrc, getAttribute: (name: string) => (name === 'data-site' ? options.siteKey : null) },
    title: options.title ?? '',
    referrer: options.referrer ?? '',
    visibilityState: 'visible',
    get cookie() {
      return [...cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    },
    set cookie(text: string) {
      const [pair] = text.split(';');
      const at = pair!.indexOf('=');
      cookies.set(pair!.slice(0, at).trim(), pair!.slice(at + 1));
    },
    addEventListener: on('document'),
  };
  const window = {
    location: {
      get href() {
        return href;
      },
      get protocol() {
        return new URL(href).protocol;
      },
    },
    history: {
      state: null,
      replaceState(_state: unknown, _title: string, url: string) {
        href = new URL(url, href).href;
      },
    },
    get localStorage() {
      if (options.storageBlocked) throw new Error('SecurityError: storage is blocked');
      return storage(localStore);
    },
    sessionStorage: storage(sessionStore),
    navigator: {
      sendBeacon(url: string, body: string) {
        beacons.push({ url, body: String(body) });
        return true;
      },
    },
    addEventListener: on('window'),
  };
  const context = vm.createContext({ window, document, URL, JSON, Math, String, encodeURIComponent, decodeURIComponent, Date: { now: () => now } });
  vm.runInContext(source, context, { filename: 's.js' });

  return {
    beacons,
    href: () => href,
    localStorage: localStore,
    cookie: () => document.cookie,
    advance(ms) {
      now += ms;
    },
    hide() {
      document.visibilityState = 'hidden';
      fire('document', 'visibilitychange');
    },
    show() {
      document.visibilityState = 'visible';
      fire('document', 'visibilitychange');
    },
    leave() {
      fire('window', 'pagehide');
    },
  };
}

/** A raw POST (fetch may not set Origin), as a browser's beacon would send it. */
export function post(url: string, body: string, headers: Record<string, string> = {}, method = 'POST'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers: { 'content-type': 'text/plain;charset=UTF-8', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}
