import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScoringBlockIds } from '../../src/modules/scoring/build-scoring-modal.ts';
import { loadScoringModel } from '../../src/modules/scoring/load-scoring-model.ts';
import { DEFAULT_SCORING_MODEL } from '../../src/modules/scoring/scoring-model.ts';
import { CUSTOM_EVENT_LINE_TEXT, KEY_PAGE_LINE_TEXT } from '../../src/modules/scoring/submit-scoring-modal.ts';
import { CallbackIds } from '../../src/slack/ids.ts';
import { apiClient, type ApiClient } from '../support/api-client.ts';
import type { Args } from '../support/fake-slack.ts';
import { ManualClock } from '../support/manual-clock.ts';
import { replyText } from '../support/slack-replies.ts';
import { startTestApp, type TestApp } from '../support/test-app.ts';
import { leadIdOf, scoringSettled, storedScore } from './scoring-support.ts';

let app: TestApp;
let api: ApiClient;
const clock = new ManualClock('2026-11-10T09:00:00Z');
const OWNER = 'U0OWNER';
const MARKETER = 'U0MARK';
const REP = 'U0REP';
const NOBODY = 'U0NOBODY';

type View = Args & { id: string; blocks: Array<Args & { block_id?: string; element?: Args }> };

beforeAll(async () => {
  app = await startTestApp({ clock });
  app.addUser({ id: OWNER, isOwner: true });
  app.addUser({ id: MARKETER, name: 'mari' });
  app.addUser({ id: REP, name: 'ren' });
  app.addUser({ id: NOBODY, name: 'nora' });
  await app.command(OWNER, `roles add <@${MARKETER}|mari> marketer`);
  await app.command(OWNER, `roles add <@${REP}|ren> rep`);
  api = await apiClient(app);
});
afterAll(() => app.stop());

async function openScoring(): Promise<View> {
  const triggerId = app.slack.newTriggerId();
  const result = await app.requests.command({ teamId: app.slack.teamId, userId: OWNER, channelId: 'C0GENERAL', text: 'scoring', responseUrl: app.slack.responseUrl(), triggerId });
  expect(result.status).toBe(200);
  const opened = await app.slack.waitForCall('views.open', (call) => call.args.trigger_id === triggerId);
  return opened.response.view as View;
}

/** The form's values as they were opened: block id → initial value. */
const initialValues = (view: View) =>
  Object.fromEntries(view.blocks.filter((block) => block.block_id?.startsWith('scoring_')).map((block) => [block.block_id!, String(block.element?.initial_value ?? '')]));

const submit = (view: View, userId: string, values: Record<string, string | null>) =>
  app.interaction(app.slack.viewSubmission({ viewId: view.id, userId, values })) as Promise<Args>;

async function scoreOf(email: string, name: string): Promise<number> {
  const response = await api.post('/api/v1/events', [{ email, name, occurred_at: clock.now().toISOString() }]);
  expect(response.status).toBe(200);
  await scoringSettled(app);
  return (await storedScore(app, await leadIdOf(app, email)))?.score ?? 0;
}

describe('/nurture scoring', () => {
  it('shows the default model in words to a rep and a marketer, and refuses someone without a role', async () => {
    for (const person of [REP, MARKETER]) {
      const text = replyText((await app.command(person, 'scoring')).reply.body);
      expect(text).toContain('*Alerts:* a hot-lead alert when a score reaches 50');
      expect(text).toContain('*Decay:* points halve every 7 days without activity');
      expect(text).toContain('*Website:* 2 for a page view; key pages instead: /pricing 10, /demo 15, /case-studies 5');
      expect(text).toContain('*Long read:* 8 for 2 minutes or more on a page');
      expect(text).toContain('*Return visit:* 10 for coming back within 7 days of clicking an email');
      expect(text).toContain('demo_requested 40');
      expect(text).toContain('Only admins change the model');
    }
    const refused = replyText((await app.command(NOBODY, 'scoring')).reply.body);
    expect(refused).toContain('Looking at the scoring model needs one of these roles');
    expect(app.slack.callsTo('views.open').filter((call) => call.response.view && (call.response.view as View).callback_id === CallbackIds.scoringModal)).toHaveLength(0);
  });

  it('opens the form for an admin, filled in with the defaults', async () => {
    const view = await openScoring();
    expect(view.callback_id).toBe(CallbackIds.scoringModal);
    const initial = initialValues(view);
    expect(initial[ScoringBlockIds.alertThreshold]).toBe('50');
    expect(initial[ScoringBlockIds.halfLifeDays]).toBe('7');
    expect(initial[ScoringBlockIds.keyPages]).toBe('/pricing 10\n/demo 15\n/case-studies 5');
    expect(initial[ScoringBlockIds.customEvents]).toContain('demo_requested 40');
    expect(view.blocks.length).toBeLessThanOrEqual(100);
  });

  it('refuses bad values beside their fields and changes nothing', async () => {
    const view = await openScoring();
    const ack = await submit(view, OWNER, {
      ...initialValues(view),
      [ScoringBlockIds.halfLifeDays]: '0',
      [ScoringBlockIds.clickPoints]: 'lots',
      [ScoringBlockIds.keyPages]: '/pricing 10\npricing-page',
      [ScoringBlockIds.comparisonPatterns]: 'products',
      [ScoringBlockIds.customEvents]: 'demo requested 40',
      [ScoringBlockIds.returnVisitPoints]: '5000',
    });
    expect(ack).toEqual({
      response_action: 'errors',
      errors: {
        [ScoringBlockIds.clickPoints]: '"lots" is not a number.',
        [ScoringBlockIds.keyPages]: `Line 2 ("pricing-page"): ${KEY_PAGE_LINE_TEXT}`,
        [ScoringBlockIds.customEvents]: `Line 1 ("demo requested 40"): ${CUSTOM_EVENT_LINE_TEXT}`,
        [ScoringBlockIds.halfLifeDays]: 'At least 0.5.',
        [ScoringBlockIds.comparisonPatterns]: 'products: A page pattern is a path starting with /, such as /pricing or /products/*.',
        [ScoringBlockIds.returnVisitPoints]: 'At most 1,000.',
      },
    });
    expect(await loadScoringModel(app.db.sql, app.slack.teamId)).toEqual(DEFAULT_SCORING_MODEL);
    expect(await app.db.sql`SELECT 1 FROM audit_log WHERE action = 'scoring.changed'`).toHaveLength(0);
  });

  it('refuses a marketer who submits the form', async () => {
    const view = await openScoring();
    const ack = await submit(view, MARKETER, { ...initialValues(view), [ScoringBlockIds.clickPoints]: '9' });
    expect(ack).toMatchObject({ response_action: 'errors', errors: { [ScoringBlockIds.alertThreshold]: expect.stringContaining('Changing the scoring model needs the *admin* role') } });
    expect(await loadScoringModel(app.db.sql, app.slack.teamId)).toEqual(DEFAULT_SCORING_MODEL);
  });

  it('saves a tuned model, audits what changed, and later events score with it', async () => {
    expect(await scoreOf('before@tuning.example', 'demo_requested')).toBe(40);
    expect(await scoreOf('before@tuning.example', 'contract_viewed')).toBe(40);

    const view = await openScoring();
    const ack = await submit(view, OWNER, {
      ...initialValues(view),
      [ScoringBlockIds.alertThreshold]: '80',
      [ScoringBlockIds.halfLifeDays]: '3.5',
      [ScoringBlockIds.customEvents]: 'demo_requested 60\ncontract_viewed 25',
    });
    expect(ack).toMatchObject({ response_action: 'update' });
    const saved = JSON.stringify((ack as { view: unknown }).view);
    expect(saved).toContain('Saved');
    expect(saved).toContain('a hot-lead alert when a score reaches 80');
    expect(saved).toContain('points halve every 3.5 days');

    const model = await loadScoringModel(app.db.sql, app.slack.teamId);
    expect(model).toEqual({ ...DEFAULT_SCORING_MODEL, alertThreshold: 80, halfLifeDays: 3.5, customEvents: { demo_requested: 60, contract_viewed: 25 } });
    const [audit] = await app.db.sql<{ actor_user_id: string; details: Record<string, unknown> }[]>`
      SELECT actor_user_id, details FROM audit_log WHERE action = 'scoring.changed'`;
    expect(audit).toEqual({
      actor_user_id: OWNER,
      details: {
        alertThreshold: { from: 50, to: 80 },
        halfLifeDays: { from: 7, to: 3.5 },
        customEvents: { from: DEFAULT_SCORING_MODEL.customEvents, to: { demo_requested: 60, contract_viewed: 25 } },
      },
    });

    // The earlier score is kept; new events score with the new weights, and it decays with the new half-life.
    expect(await scoreOf('before@tuning.example', 'contract_viewed')).toBe(65);
    expect(await scoreOf('after@tuning.example', 'demo_requested')).toBe(60);
    expect(await scoreOf('after@tuning.example', 'resource_download')).toBe(60);
    clock.advance({ days: 3.5 });
    expect(await scoreOf('after@tuning.example', 'demo_requested')).toBeCloseTo(90, 9);
    const card = replyText((await app.command(MARKETER, 'lead after@tuning.example')).reply.body);
    expect(card).toContain('*Score:* 90 (:fire: hot)');
    expect(card).toContain('demo requested twice in 4 days');
  });
});
