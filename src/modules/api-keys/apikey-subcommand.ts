import { z } from 'zod';
import { UsageError } from '../../lib/errors.ts';
import type { CommandContext, Subcommand } from '../../slack/subcommand.ts';
import { requireRole } from '../roles/roles.ts';
import { createApiKey, revokeKey } from './api-keys.ts';
import { activeApiKeys } from './queries.ts';

const LabelSchema = z
  .string()
  .trim()
  .min(1, 'Give the key a label that says what uses it, e.g. `/nurture apikey create website-forms`')
  .max(60, 'Labels are at most 60 characters');

export const apikeySubcommand: Subcommand = {
  name: 'apikey',
  summary: 'keys for the HTTP API that brings leads and events in (admins)',
  usage: [
    { form: '/nurture apikey create <label>', example: '/nurture apikey create website-forms', explains: 'shown once, stored hashed' },
    { form: '/nurture apikey list', example: '/nurture apikey list' },
    { form: '/nurture apikey revoke <label or prefix>', example: '/nurture apikey revoke website-forms' },
  ],
  async run(context) {
    const [verb, ...rest] = context.args;
    const { services, teamId, userId } = context;
    const action = verb?.value.toLowerCase();
    if (action !== 'create' && action !== 'list' && action !== 'revoke') {
      throw new UsageError('Say what to do with API keys: `/nurture apikey create <label>`, `/nurture apikey list` or `/nurture apikey revoke <label>`.');
    }
    await requireRole(services, teamId, userId, ['admin'], 'Managing API keys');
    const label = rest.map((token) => token.value).join(' ');
    if (action === 'list') return listKeys(context);
    const parsed = LabelSchema.safeParse(label);
    if (!parsed.success) throw new UsageError(parsed.error.issues[0]!.message);
    return action === 'create' ? createKey(context, parsed.data) : revoke(context, parsed.data);
  },
};

async function createKey({ services, teamId, userId, respond }: CommandContext, label: string) {
  const { key } = await createApiKey(services.sql, { teamId, label, createdBy: userId });
  const endpoint = `${services.config.publicUrl}/api/v1/leads`;
  await respond({
    response_type: 'ephemeral',
    text: `API key "${label}" created. Copy it now: it is shown only this once.\n\`${key}\`\nUse it as \`Authorization: Bearer <key>\` on ${endpoint} and /api/v1/events.`,
  });
}

async function listKeys({ services, teamId, respond }: CommandContext) {
  const keys = await activeApiKeys(services.sql, teamId);
  const lines = keys.map(
    (key) =>
      `• *${key.label}* \`${key.prefix}…\` — created by <@${key.created_by}> on ${key.created_at.toISOString().slice(0, 10)}, ` +
      (key.last_used_at ? `last used ${key.last_used_at.toISOString().slice(0, 16).replace('T', ' ')} UTC` : 'never used'),
  );
  await respond({ response_type: 'ephemeral', text: keys.length > 0 ? `Active API keys:\n${lines.join('\n')}` : 'There are no active API keys. Create one with `/nurture apikey create <label>`.' });
}

async function revoke({ services, teamId, userId, respond }: CommandContext, labelOrPrefix: string) {
  const row = await revokeKey(services.sql, { teamId, labelOrPrefix, revokedBy: userId });
  if (!row) throw new UsageError(`No active API key is labelled "${labelOrPrefix}" (or starts with it). \`/nurture apikey list\` shows them.`);
  await respond({ response_type: 'ephemeral', text: `API key "${row.label}" (\`${row.prefix}…\`) is revoked; requests with it now get 401.` });
}
