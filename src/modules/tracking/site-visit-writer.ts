import type { Sql } from '../../db/client.ts';
import type { Logger } from '../../lib/logger.ts';
import type { ScorableEvent } from '../scoring/score-events.ts';
import { BatchWriter, type BatchWriterOptions } from './batch-writer.ts';
import { insertVisitEvents, type VisitEventRow } from './queries.ts';

export interface SiteVisitWriterOptions extends BatchWriterOptions {
  /** Where stored human visits go to be scored (startNurture: a scoring job). Best effort: a failure is logged. */
  onStored?: (teamId: string, events: ScorableEvent[]) => Promise<void>;
}

/**
 * Stores the site snippet's page views and reads in batches (batch-writer.ts), as TrackingWriter does
 * opens and clicks: POST /t/v answers at once and hands the visit here; one INSERT stores what waits,
 * then the people's visits go to scoring.
 */
export class SiteVisitWriter {
  readonly #sql: Sql;
  readonly #logger: Logger;
  readonly #onStored: SiteVisitWriterOptions['onStored'];
  readonly #batches: BatchWriter<VisitEventRow>;
  #stored = 0;
  /** Not stored because already there (a retried beacon) or their lead is gone. */
  #skipped = 0;

  constructor(sql: Sql, logger: Logger, options: SiteVisitWriterOptions = {}) {
    this.#sql = sql;
    this.#logger = logger.child({ component: 'site-visit-writer' });
    this.#onStored = options.onStored;
    this.#batches = new BatchWriter('site visits', this.#logger, (batch) => this.#write(batch), options);
  }

  record(visit: VisitEventRow): void {
    this.#batches.record(visit);
  }

  /** Writes everything buffered so far (tests and stop()). Rejects when the database refuses. */
  flush(): Promise<void> {
    return this.#batches.flush();
  }

  /** Counters for logs and the benchmark. */
  get stats() {
    return { recorded: this.#batches.stats.recorded, stored: this.#stored, dropped: this.#batches.stats.dropped + this.#skipped };
  }

  async stop(): Promise<void> {
    await this.#batches.stop();
    this.#logger.info(this.stats, 'site visit writer stopped');
  }

  async #write(batch: VisitEventRow[]): Promise<void> {
    const stored = await insertVisitEvents(this.#sql, batch);
    this.#stored += stored.length;
    this.#skipped += batch.length - stored.length;
    await this.#handToScoring(stored);
  }

  async #handToScoring(stored: readonly VisitEventRow[]): Promise<void> {
    if (!this.#onStored) return;
    const byTeam = new Map<string, ScorableEvent[]>();
    for (const row of stored) {
      if (row.verdict !== 'human') continue;
      const events = byTeam.get(row.team_id) ?? [];
      events.push({ leadId: Number(row.lead_id), kind: 'web', name: row.name, urlPath: row.url_path, properties: row.properties, occurredAt: row.occurred_at, verdict: 'human' });
      byTeam.set(row.team_id, events);
    }
    for (const [teamId, events] of byTeam) {
      await this.#onStored(teamId, events).catch((error) => this.#logger.error({ err: error, teamId, events: events.length }, 'site visits stored but not handed to scoring'));
    }
  }
}
