import { WebClient } from '@slack/web-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/lib/logger.ts';
import { importSummaryMessage } from '../../src/modules/imports/build-import-messages.ts';
import type { ImportSummary } from '../../src/modules/imports/import-csv-in-batches.ts';
import { PROGRESS_AFTER_MS, PROGRESS_EVERY_MS, progressReporter } from '../../src/modules/imports/run-csv-import.ts';
import { checkMessage, LIMITS } from '../support/block-kit-limits.ts';
import { startFakeSlack, type FakeSlack } from '../support/fake-slack.ts';

const header = { columns: [{ index: 0, header: 'email', field: 'email' as const }], ignoredColumns: 0, delimiter: ',' };

describe('import summary message', () => {
  it('lists the first problem rows within Slack’s limits, escaped, and counts the rest', () => {
    const summary: ImportSummary = {
      rows: 100_000,
      created: 90_000,
      updated: 4_000,
      unchanged: 1_000,
      failed: 5_000,
      header,
      errors: Array.from({ length: 200 }, (_, i) => ({
        row: i + 2,
        email: `<!channel> ${'x'.repeat(100)}@example.com`,
        problems: ['email is not a valid address', `stage must be one of awareness, consideration, decision, customer ${'&'.repeat(50)}`],
      })),
    };
    const message = importSummaryMessage('big <file>.csv', summary);
    expect(checkMessage(message)).toBeNull();
    expect(message.blocks!.length).toBeLessThanOrEqual(LIMITS.messageBlocks);
    const shown = JSON.stringify(message);
    expect(shown).not.toContain('<!channel>');
    expect(shown).toContain('&lt;!channel&gt;');
    expect(shown).toContain('100,000 rows read: *90,000* new leads, *4,000* updated, *1,000* unchanged, *5,000* not imported.');
    expect(shown).toMatch(/…and [\d,]+ more rows with problems\./);
    expect(message.text).toBe('Imported, with problems, big &lt;file&gt;.csv: 100,000 rows, 90,000 new, 4,000 updated, 1,000 unchanged, 5,000 not imported.');
  });

  it('says where reading stopped when the file turned unreadable part-way', () => {
    const message = importSummaryMessage('part.csv', {
      rows: 10, created: 10, updated: 0, unchanged: 0, failed: 0, errors: [], header,
      stopped: { row: 12, reason: 'the file is not UTF-8 — in Excel use Save As → “CSV UTF-8 (Comma delimited)”, then import that file' },
    });
    expect(JSON.stringify(message.blocks)).toContain(':octagonal_sign: *Reading stopped at row 12*: the file is not UTF-8');
    expect(checkMessage(message)).toBeNull();
  });
});

describe('import progress', () => {
  let slack: FakeSlack;
  let client: WebClient;
  beforeAll(async () => {
    slack = await startFakeSlack();
    slack.addUser({ id: 'U0MARK' });
    client = new WebClient(slack.botToken, { slackApiUrl: slack.url, retryConfig: { retries: 0 } });
  });
  afterAll(() => slack.close());

  it('shows nothing on a short import, then one message updated at most every 2 s, finished at the end', async () => {
    let now = 1_000_000;
    const reporter = progressReporter({ slack: client }, createLogger('silent'), 'U0MARK', 'big.csv', 1_000_000, () => now);
    const progress = (rows: number) => ({ rows, created: rows, updated: 0, unchanged: 0, failed: 0, bytesRead: rows * 10 });

    now += PROGRESS_AFTER_MS - 1;
    reporter.update(progress(10_000));
    now += 1;
    reporter.update(progress(20_000));
    now += PROGRESS_EVERY_MS - 1;
    reporter.update(progress(30_000));
    now += 1;
    reporter.update(progress(40_000));
    await reporter.finish(50_000);

    expect(slack.callsTo('chat.postMessage').map((call) => call.args.text)).toEqual([
      ':hourglass_flowing_sand: Importing *big.csv*… 20,000 rows read (20%): 20,000 new, 0 updated, 0 unchanged, 0 not imported so far.',
    ]);
    expect(slack.callsTo('chat.update').map((call) => call.args.text)).toEqual([
      ':hourglass_flowing_sand: Importing *big.csv*… 40,000 rows read (40%): 40,000 new, 0 updated, 0 unchanged, 0 not imported so far.',
      ':white_check_mark: Finished importing *big.csv* (50,000 rows). The summary is below.',
    ]);
    expect(slack.messages).toHaveLength(1);
  });
});
