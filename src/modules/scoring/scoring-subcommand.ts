import type { Subcommand } from '../../slack/subcommand.ts';
import { requireRole } from '../roles/roles.ts';
import { buildScoringModal, describeScoringModel, SCORING_VIEW_ONLY_NOTE } from './build-scoring-modal.ts';
import { loadScoringModel } from './load-scoring-model.ts';

/** `/nurture scoring`: admins tune the lead scoring model in a form; anyone with a role sees it in words. */
export const scoringSubcommand: Subcommand = {
  name: 'scoring',
  summary: 'how leads are scored: points for opens, clicks, key pages, long reads, comparisons, return visits and custom events, decay and the alert threshold (admins change it)',
  usage: [{ form: '/nurture scoring', example: '/nurture scoring', explains: 'admins get a form to tune the weights; everyone with a role sees the model' }],
  async run({ services, teamId, userId, triggerId, client, respond }) {
    const person = await requireRole(services, teamId, userId, ['marketer', 'rep'], 'Looking at the scoring model');
    const model = await loadScoringModel(services.sql, teamId);
    if (person.roles.includes('admin')) {
      await client.views.open({ trigger_id: triggerId, view: buildScoringModal(model) });
      return;
    }
    await respond({ response_type: 'ephemeral', text: `${describeScoringModel(model)}\n_${SCORING_VIEW_ONLY_NOTE}_` });
  },
};
