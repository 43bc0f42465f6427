import { z } from 'zod';
import { UsageError } from '../../lib/errors.ts';
import type { CommandContext, Subcommand } from '../../slack/subcommand.ts';
import { escapeMrkdwn } from '../../slack/mrkdwn.ts';
import { requireRole } from '../roles/roles.ts';
import { recordAudit } from '../workspaces/queries.ts';
import { getSiteOrigins, setSiteOrigins } from '../workspaces/settings.ts';
import { SITE_SNIPPET_PATH } from './site-routes.ts';
import { signSiteKey } from './tracking-tokens.ts';

export const MAX_SITE_ORIGINS = 20;
export const SITE_ORIGINS_USAGE = 'Give the site origins, e.g. `/nurture site origins https://www.example.com https://shop.example.com`, or `/nurture site origins none`.';
export const NO_ORIGINS_TEXT = 'No site may report visits yet: an admin adds its origins with `/nurture site origins https://www.example.com`.';

/** `https://www.example.com` (a trailing slash is fine): scheme, host and port, no path, query or fragment. */
export const SiteOriginSchema = z
  .string()
  // Slack sends typed addresses as links: <https://www.example.com> or <https://www.example.com|www.example.com>.
  .transform((text) => text.replace(/^<([^|>]*)(\|[^>]*)?>$/, '$1'))
  .refine((text) => URL.canParse(text), { error: (issue) => `"${issue.input}" is not an address such as https://www.example.com` })
  .transform((text) => ({ text, url: new URL(text) }))
  .refine(({ url }) => url.protocol === 'https:' || url.protocol === 'http:', { error: (issue) => `${(issue.input as { text: string }).text} must start with https:// or http://` })
  .refine(({ url, text }) => url.pathname === '/' && url.search === '' && url.hash === '' && !text.includes('@') && !/[?#]$/.test(text), {
    error: (issue) => `${(issue.input as { text: string }).text} is not an origin: give only the scheme and host, e.g. ${(issue.input as { url: URL }).url.origin}`,
  })
  .transform(({ url }) => url.origin);

/** `/nurture site`: the one-line install snippet and the allowed origins; admins change the origins. */
export const siteSubcommand: Subcommand = {
  name: 'site',
  summary: 'the website snippet that ties visits to leads who clicked an email, and the site origins allowed to report them (admins change them)',
  usage: [
    { form: '/nurture site', example: '/nurture site', explains: 'the one-line snippet to paste into every page, and the allowed origins' },
    {
      form: '/nurture site origins <origin> [<origin>…]',
      example: '/nurture site origins https://www.example.com https://shop.example.com',
      explains: `replaces the allowed origins (admins; at most ${MAX_SITE_ORIGINS}); \`none\` allows none`,
    },
  ],
  async run(context) {
    const [verb, ...rest] = context.args;
    const action = verb?.value.toLowerCase();
    if (action === undefined) return showSite(context);
    if (action === 'origins') return changeOrigins(context, rest.map((token) => token.value));
    throw new UsageError(`\`/nurture site\` shows the snippet; \`/nurture site origins …\` changes the allowed origins. ${SITE_ORIGINS_USAGE}`);
  },
};

/** The tag to paste into every page of the site. */
export function installSnippet(publicUrl: string, siteKey: string): string {
  return `<script async src="${publicUrl}${SITE_SNIPPET_PATH}" data-site="${siteKey}"></script>`;
}

async function showSite({ services, teamId, userId, respond }: CommandContext): Promise<void> {
  await requireRole(services, teamId, userId, ['marketer', 'rep'], 'Looking at the website snippet');
  const origins = await getSiteOrigins(services.sql, teamId);
  const snippet = installSnippet(services.config.publicUrl, signSiteKey(services.config.trackingSecret, { w: teamId }));
  await respond({
    response_type: 'ephemeral',
    text: [
      '*Website tracking.* Paste this line into every page of your site (before `</body>`). It reports page views and time on page of people who came from one of your emails, and nothing about anyone else:',
      `\`\`\`${escapeMrkdwn(snippet)}\`\`\``,
      origins.length > 0 ? `*Allowed origins:* ${origins.map(escapeMrkdwn).join(', ')}` : NO_ORIGINS_TEXT,
      '_Admins change the origins with `/nurture site origins https://www.example.com …`._',
    ].join('\n'),
  });
}

async function changeOrigins({ services, teamId, userId, respond }: CommandContext, words: readonly string[]): Promise<void> {
  await requireRole(services, teamId, userId, ['admin'], 'Changing the allowed site origins');
  if (words.length === 0) throw new UsageError(SITE_ORIGINS_USAGE);
  const clearing = words.length === 1 && words[0]!.toLowerCase() === 'none';
  const parsed = clearing ? { success: true as const, data: [] } : z.array(SiteOriginSchema).max(MAX_SITE_ORIGINS, `At most ${MAX_SITE_ORIGINS} origins.`).safeParse(words);
  if (!parsed.success) throw new UsageError(`${parsed.error.issues[0]!.message}. ${SITE_ORIGINS_USAGE}`);
  const origins = [...new Set(parsed.data)];
  await services.sql.begin(async (tx) => {
    const before = await getSiteOrigins(tx, teamId);
    await setSiteOrigins(tx, teamId, origins);
    await recordAudit(tx, { teamId, actorUserId: userId, action: 'site.origins_changed', details: { from: before, to: origins } });
  });
  services.logger.info({ teamId, userId, origins: origins.length }, 'site origins changed');
  await respond({
    response_type: 'ephemeral',
    text: origins.length > 0 ? `Pages on ${origins.map(escapeMrkdwn).join(', ')} may now report visits.` : `Allowed origins cleared. ${NO_ORIGINS_TEXT}`,
  });
}
