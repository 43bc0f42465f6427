import type { Sql } from '../../db/client.ts';
import type { Logger } from '../../lib/logger.ts';
import type { ScorableEvent } from '../scoring/score-events.ts';
import { insertVisitEvents, type VisitEventRow } from './queries.ts';

export interface SiteVisitWriterOptions {
  /** How long a visit may wait for others to share its INSERT. */
  flushIntervalMs?: number;
  /** Visits per flush (one INSERT). */
  maxBatch?: number;
  /** While the database is away: past this, the oldest visits are dropped (and logged) rather than the process. */
  maxBuffered?: number;
  /** Where stored human visits go to be scored (startNurture: a scoring job). Best effort: a failure is logged. */
  onStored?: (teamId: string, events: ScorableEvent[]) => Promise<void>;
}

const STOP_ATTEMPTS = 5;

/**
 * Stores the site snippet's page views and reads in batches, like TrackingWriter does opens and clicks:
 * POST /t/v answers at once and hands the visit here; every few milliseconds one INSERT stores what
 * waits. A failed flush keeps its visits and retries with backoff; stop() flushes what is left
 * (startNurture calls it after the HTTP server closed, before the pool does).
 */
export class SiteVisitWriter {
  readonly #sql: Sql;
  readonly #logger: Logger;
  readonly #flushIntervalMs: number;
  readonly #maxBatch: number;
  readonly #maxBuffered: number;
  readonly #onStored: SiteVisitWriterOptions['onStored'];
  #buffer: VisitEventRow[] = [];
  #timer: NodeJS.Timeout | undefined;
  /** Flushes run one at a time, whoever asks (the timer, flush(), stop()). */
  #tail: Promise<unknown> = Promise.resolve();
  #failures = 0;
  #stopped = false;
  readonly stats = { recorded: 0, stored: 0, dropped: 0 };

  constructor(sql: Sql, logger: Logger, options: SiteVisitWriterOptions = {}) {
    this.#sql = sql;
    this.#logger = logger.child({ component: 'site-visit-writer' });
    this.#flushIntervalMs = options.flushIntervalMs ?? 25;
    this.#maxBatch = options.maxBatch ?? 1000;
    this.#maxBuffered = options.maxBuffered ?? 200_000;
    this.#onStored = options.onStored;
  }

  record(visit: VisitEventRow): void {
    this.#buffer.push(visit);
    this.stats.recorded++;
    if (this.#buffer.length > this.#maxBuffered) {
      const dropped = this.#buffer.splice(0, this.#buffer.length - this.#maxBuffered);
      this.stats.dropped += dropped.length;
      this.#logger.error({ dropped: dropped.length }, 'site visits dropped: the database has not taken them for too long');
    }
    this.#schedule(this.#buffer.length >= this.#maxBatch ? 0 : this.#flushIntervalMs);
  }

  /** Writes everything buffered so far (tests and stop()). Rejects when the database refuses. */
  async flush(): Promise<void> {
    while (this.#buffer.length > 0) await this.#exclusive(() => this.#flushOnce());
    await this.#tail;
  }

  /** Flushes what is left, retrying a few times; what the database still refuses is logged as lost. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    for (let attempt = 1; ; attempt++) {
      try {
        await this.flush();
        break;
      } catch (error) {
        if (attempt >= STOP_ATTEMPTS) {
          this.stats.dropped += this.#buffer.length;
          this.#logger.error({ err: error, lost: this.#buffer.length }, 'site visits could not be stored before stopping');
          this.#buffer = [];
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
      }
    }
    this.#logger.info(this.stats, 'site visit writer stopped');
  }

  #exclusive(work: () => Promise<void>): Promise<void> {
    const run = this.#tail.then(work);
    this.#tail = run.catch(() => undefined);
    return run;
  }

  #schedule(delayMs: number): void {
    if (this.#stopped || (this.#timer && delayMs > 0)) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#exclusive(() => this.#flushOnce()).then(
        () => {
          this.#failures = 0;
          if (this.#buffer.length > 0) this.#schedule(this.#flushIntervalMs);
        },
        (error) => {
          this.#failures++;
          this.#logger.warn({ err: error, buffered: this.#buffer.length, failures: this.#failures }, 'site visits not stored yet; retrying');
          this.#schedule(Math.min(5000, 100 * 2 ** (this.#failures - 1)));
        },
      );
    }, delayMs);
  }

  async #flushOnce(): Promise<void> {
    if (this.#buffer.length === 0) return;
    const batch = this.#buffer.splice(0, this.#maxBatch);
    let stored: VisitEventRow[];
    try {
      stored = await insertVisitEvents(this.#sql, batch);
    } catch (error) {
      this.#buffer.unshift(...batch);
      throw error;
    }
    this.stats.stored += stored.length;
    this.stats.dropped += batch.length - stored.length;
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
