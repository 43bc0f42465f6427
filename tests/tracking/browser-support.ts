import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium: playwright-core downloads no browser of its own, and this machine could not fetch one. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

export const CHROMIUM_MISSING = `The browser tests drive Debian's Chromium at ${CHROMIUM_PATH}, which is not installed: run \`apt-get install chromium\` (.ci/run installs it).`;

/**
 * A person's desktop Chrome. Headless Chromium says "HeadlessChrome", which the app rightly counts as a
 * bot: the browser tests play a person.
 */
export const DESKTOP_CHROME_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/150.0.0.0 Safari/537.36';

/** Headless Chromium, failing (not skipping) when it is missing: CI installs it. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) throw new Error(CHROMIUM_MISSING);
  // Chromium refuses to run as root with its sandbox; CI runs as root.
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: process.getuid?.() === 0 ? ['--no-sandbox'] : [] });
}

/** The line `/nurture site` shows, out of its reply (mrkdwn-escaped in a code block). */
export function installSnippetIn(replyText: string): string {
  const match = /&lt;script async src="[^"]+" data-site="[^"]+"&gt;&lt;\/script&gt;/.exec(replyText);
  if (!match) throw new Error(`no install snippet in: ${replyText}`);
  return match[0].replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&');
}

export interface SitePage {
  title: string;
  /** HTML inside <body>, before the snippet. */
  body: string;
}

export interface CustomerSite {
  /** http://127.0.0.1:PORT, the origin an admin allows with `/nurture site origins`. */
  readonly origin: string;
  close(): Promise<void>;
}

/** The customer's own website on 127.0.0.1: every page ends with the install snippet, pasted before </body> as /nurture site says. */
export async function startCustomerSite(pages: Record<string, SitePage>, installSnippet: string): Promise<CustomerSite> {
  const server = createServer((req, res) => {
    const page = pages[new URL(req.url ?? '/', 'http://site').pathname];
    if (!page) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('Not found');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>${page.title}</title></head><body>${page.body}\n${installSnippet}\n</body></html>`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
