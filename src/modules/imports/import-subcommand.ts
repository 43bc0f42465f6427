import { UsageError } from '../../lib/errors.ts';
import type { Subcommand } from '../../slack/subcommand.ts';
import { requireRole } from '../roles/roles.ts';
import { buildImportModal } from './build-import-modal.ts';

export const importSubcommand: Subcommand = {
  name: 'import',
  summary: 'import leads from a CSV file (marketers and admins)',
  usage: [
    {
      form: '/nurture import',
      example: '/nurture import',
      explains: 'opens a form to upload a CSV of up to 10 MB; for bigger files use `npm run import` on the server (see README)',
    },
  ],
  async run({ services, teamId, userId, triggerId, args, client }) {
    if (args.length > 0) throw new UsageError('`/nurture import` takes nothing after it: it opens a form where you upload the CSV file.');
    await requireRole(services, teamId, userId, ['marketer'], 'Importing leads');
    // trigger_id expires ~3 s after the command: nothing slow between here and the role check.
    await client.views.open({ trigger_id: triggerId, view: buildImportModal() });
  },
};
