import type { Sql } from '../../db/client.ts';
import type { Logger } from '../../lib/logger.ts';
import type { EmailLabels, EmailSources } from '../delivery/email-source.ts';
import type { ScorableEvent } from '../scoring/score-events.ts';
import { BatchWriter, type BatchWriterOptions } from './batch-writer.ts';
import { LINK_BURST_MS, MACHINE_REASONS, type Verdict } from './classify-activity.ts';
import { correctBursts, insertTrackingEvents, markSendsActive, sendSources, type BurstCorrection, type FirstActivity, type SendSource, type TrackingEventRow } from './queries.ts';

/** An open or click that was answered: it must be stored, whatever happens next. */
export interface TrackingEvent {
  teamId: string;
  leadId: number;
  sendId: number;
  name: 'email_opened' | 'email_clicked';
  /** Clicks: where the link went (segments filter on it). */
  url?: string;
  occurredAt: Date;
  verdict: Verdict;
}

interface Buffered extends TrackingEvent {
  state: 'pending' | 'writing' | 'written';
}

/** A stored human event waiting to be handed to scoring (a click waits out its burst window first). */
interface ToScore {
  event: Buffered;
  readyAt: number;
}

/** One email's clicks within LINK_BURST_MS of its first: a scanner clicks every link at once. */
interface Burst {
  /** The app clock's time of its first click (the window), and the process's (to forget it). */
  firstAt: number;
  seenAt: number;
  urls: Set<string>;
  clicks: Buffered[];
  isScanner: boolean;
}

export interface TrackingWriterOptions extends BatchWriterOptions {
  /**
   * Where stored human opens and clicks go to be scored (startNurture: a scoring job). A click is handed
   * over once its all-links burst window has passed, so a scanner's first click, judged human when it was
   * stored, is never scored. Best effort: a failure is logged (the events themselves are stored).
   */
  onStored?: (teamId: string, events: ScorableEvent[]) => Promise<void>;
}

/** What waits to be written: an answered event, or a burst's correction of clicks already written. */
type Pending = { kind: 'event'; event: Buffered } | { kind: 'correction'; correction: BurstCorrection };

const LABELS_TTL_MS = 60_000;
const LABELS_KEPT = 5000;
const SENDS_KEPT = 100_000;

/**
 * Stores tracking events in batches (batch-writer.ts): the endpoints answer at once and hand each event
 * here, and every few milliseconds one transaction inserts them into `events`, dates the ledger rows'
 * first human open and click, and applies burst corrections. The all-links burst is judged here, where
 * one email's clicks meet (within one web process).
 */
export class TrackingWriter {
  readonly #sql: Sql;
  readonly #sources: EmailSources;
  readonly #logger: Logger;
  readonly #maxBatch: number;
  readonly #onStored: TrackingWriterOptions['onStored'];
  readonly #batches: BatchWriter<Pending>;
  #toScore: ToScore[] = [];
  #scoreTimer: NodeJS.Timeout | undefined;
  readonly #bursts = new Map<string, Burst>();
  readonly #labels = new Map<string, { labels: EmailLabels; at: number }>();
  /** Ledger rows seen (their source never changes), and those whose first human open / click is stored: skipped next time. */
  readonly #sends = new Map<string, SendSource>();
  readonly #dated = new Set<string>();
  #stored = 0;
  /** Not stored: their ledger row is gone (the lead was erased). */
  #skipped = 0;

  constructor(sql: Sql, sources: EmailSources, logger: Logger, options: TrackingWriterOptions = {}) {
    this.#sql = sql;
    this.#sources = sources;
    this.#logger = logger.child({ component: 'tracking-writer' });
    this.#maxBatch = options.maxBatch ?? 1000;
    this.#onStored = options.onStored;
    this.#batches = new BatchWriter('tracking events', this.#logger, (batch) => this.#write(batch), options);
  }

  /** Counters for logs and the benchmark. */
  get stats() {
    return { recorded: this.#batches.stats.recorded, stored: this.#stored, dropped: this.#batches.stats.dropped + this.#skipped };
  }

  /** Takes an answered event; `linkCount` is its email's number of tracked links (for the burst rule). */
  record(event: TrackingEvent, linkCount: number): void {
    const buffered: Buffered = { ...event, state: 'pending' };
    if (event.name === 'email_clicked' && event.url !== undefined) this.#judgeBurst(buffered, linkCount);
    this.#batches.record({ kind: 'event', event: buffered });
  }

  /** Writes everything buffered so far (tests and stop()). Rejects when the database refuses. */
  flush(): Promise<void> {
    return this.#batches.flush();
  }

  /** Writes what is left (retrying a few times), then hands what waits to scoring. */
  async stop(): Promise<void> {
    await this.#batches.stop();
    clearTimeout(this.#scoreTimer);
    // Stopped, no burst can grow any more: what waits is handed over now.
    await this.#handToScoring(Number.POSITIVE_INFINITY);
    this.#logger.info(this.stats, 'tracking writer stopped');
  }

  async #write(pending: readonly Pending[]): Promise<void> {
    const batch: Buffered[] = [];
    const corrections: BurstCorrection[] = [];
    for (const item of pending) {
      if (item.kind === 'event') batch.push(item.event);
      else corrections.push(item.correction);
    }
    for (const event of batch) event.state = 'writing';
    try {
      const labels = await this.#labelsOf(batch);
      const rows: TrackingEventRow[] = [];
      const firsts = new Map<string, FirstActivity>();
      for (const event of batch) {
        const label = labels.get(sendKey(event.teamId, event.sendId));
        // The ledger row is gone: the lead was erased, and its events with it.
        if (!label) continue;
        rows.push({
          team_id: event.teamId,
          lead_id: event.leadId,
          name: event.name,
          properties: { ...label, send_id: event.sendId, ...(event.url !== undefined ? { url: event.url } : {}) },
          occurred_at: event.occurredAt.toISOString(),
          verdict: event.verdict.verdict,
          verdict_reason: event.verdict.reason,
        });
        if (event.verdict.verdict === 'human' && !this.#dated.has(datedKey(event))) noteFirst(firsts, event);
      }
      const stored = await this.#sql.begin(async (tx) => {
        const inserted = await insertTrackingEvents(tx, rows);
        await markSendsActive(tx, [...firsts.values()]);
        await correctBursts(tx, corrections);
        return inserted;
      });
      for (const event of batch) event.state = 'written';
      // A burst correction may clear a click date: those rows are dated again by their next human click.
      for (const correction of corrections) this.#dated.delete(`${sendKey(correction.team_id, correction.send_id)}:email_clicked`);
      for (const first of firsts.values()) {
        if (first.opened_at) remember(this.#dated, `${sendKey(first.team_id, first.id)}:email_opened`, SENDS_KEPT);
        if (first.clicked_at) remember(this.#dated, `${sendKey(first.team_id, first.id)}:email_clicked`, SENDS_KEPT);
      }
      this.#stored += stored;
      this.#skipped += batch.length - stored;
      this.#forgetOldBursts();
      this.#queueForScoring(batch);
    } catch (error) {
      // The batch goes back to the buffer (batch-writer.ts) and is written again.
      for (const event of batch) event.state = 'pending';
      throw error;
    }
  }

  #queueForScoring(batch: readonly Buffered[]): void {
    if (!this.#onStored) return;
    const now = Date.now();
    for (const event of batch) {
      if (event.verdict.verdict !== 'human') continue;
      this.#toScore.push({ event, readyAt: event.name === 'email_clicked' ? now + LINK_BURST_MS : now });
    }
    void this.#handToScoring(now);
  }

  /** Hands over the events ready by `until` that are still a person's (a burst may have turned them), per workspace. */
  async #handToScoring(until: number): Promise<void> {
    const ready = this.#toScore.filter((entry) => entry.readyAt <= until);
    if (ready.length === 0 && this.#toScore.length === 0) return;
    this.#toScore = this.#toScore.filter((entry) => entry.readyAt > until);
    clearTimeout(this.#scoreTimer);
    this.#scoreTimer = undefined;
    let nextAt = Number.POSITIVE_INFINITY;
    for (const entry of this.#toScore) nextAt = Math.min(nextAt, entry.readyAt);
    if (nextAt !== Number.POSITIVE_INFINITY && !this.#batches.stopped) this.#scoreTimer = setTimeout(() => void this.#handToScoring(Date.now()), Math.max(0, nextAt - Date.now()));
    const byTeam = new Map<string, ScorableEvent[]>();
    for (const { event } of ready) {
      if (event.verdict.verdict !== 'human') continue;
      const events = byTeam.get(event.teamId) ?? [];
      events.push({
        leadId: event.leadId,
        kind: 'email',
        name: event.name,
        urlPath: null,
        properties: event.url !== undefined ? { url: event.url } : {},
        occurredAt: event.occurredAt,
        verdict: 'human',
      });
      byTeam.set(event.teamId, events);
    }
    for (const [teamId, events] of byTeam) {
      for (let from = 0; from < events.length; from += this.#maxBatch) {
        await this.#onStored!(teamId, events.slice(from, from + this.#maxBatch)).catch((error) =>
          this.#logger.error({ err: error, teamId, events: events.length }, 'tracking events stored but not handed to scoring'),
        );
      }
    }
  }

  /** Labels by ledger row: the rows in one query, each source's labels from a short-lived cache. */
  async #labelsOf(batch: readonly Buffered[]): Promise<Map<string, EmailLabels>> {
    const wanted = new Map<string, { team_id: string; id: number }>();
    for (const event of batch) {
      const key = sendKey(event.teamId, event.sendId);
      if (!this.#sends.has(key)) wanted.set(key, { team_id: event.teamId, id: event.sendId });
    }
    for (const send of await sendSources(this.#sql, [...wanted.values()])) {
      this.#sends.set(sendKey(send.team_id, send.id), send);
      if (this.#sends.size > SENDS_KEPT) this.#sends.delete(this.#sends.keys().next().value!);
    }
    const bySend = new Map<string, EmailLabels>();
    for (const event of batch) {
      const key = sendKey(event.teamId, event.sendId);
      const send = this.#sends.get(key);
      if (send && !bySend.has(key)) bySend.set(key, await this.#sourceLabels(send));
    }
    return bySend;
  }

  async #sourceLabels(send: SendSource): Promise<EmailLabels> {
    const key = `${send.team_id}:${send.source_kind}:${send.source_id}:${send.source_step}`;
    const cached = this.#labels.get(key);
    if (cached && Date.now() - cached.at < LABELS_TTL_MS) return cached.labels;
    const source = this.#sources.get(send.source_kind);
    const labels = source ? await source.labels(this.#sql, send.team_id, send.source_id, send.source_step) : { message: `${send.source_kind} ${send.source_id}` };
    this.#labels.delete(key);
    this.#labels.set(key, { labels, at: Date.now() });
    if (this.#labels.size > LABELS_KEPT) this.#labels.delete(this.#labels.keys().next().value!);
    return labels;
  }

  /**
   * Every link (two or more) of one email clicked within LINK_BURST_MS: all those clicks, and any more
   * in the window, are a scanner's. Clicks already written are corrected by the next flush.
   */
  #judgeBurst(click: Buffered, linkCount: number): void {
    const key = sendKey(click.teamId, click.sendId);
    const at = click.occurredAt.getTime();
    let burst = this.#bursts.get(key);
    if (!burst || at - burst.firstAt > LINK_BURST_MS) {
      burst = { firstAt: at, seenAt: Date.now(), urls: new Set(), clicks: [], isScanner: false };
      this.#bursts.set(key, burst);
    }
    burst.urls.add(click.url!);
    burst.clicks.push(click);
    if (!burst.isScanner && (linkCount < 2 || burst.urls.size < linkCount)) return;
    burst.isScanner = true;
    const scanner: Verdict = { verdict: 'machine', reason: MACHINE_REASONS.allLinks };
    let written = false;
    for (const earlier of burst.clicks) {
      if (earlier.verdict.verdict !== 'human') continue;
      earlier.verdict = scanner;
      if (earlier.state !== 'pending') written = true;
    }
    if (written) {
      this.#batches.record({
        kind: 'correction',
        correction: {
          team_id: click.teamId,
          lead_id: click.leadId,
          send_id: click.sendId,
          from: new Date(burst.firstAt).toISOString(),
          to: click.occurredAt.toISOString(),
          reason: MACHINE_REASONS.allLinks,
        },
      });
    }
  }

  #forgetOldBursts(): void {
    const now = Date.now();
    // Past its window a burst only wastes memory; a newer click of the email starts a new one anyway.
    for (const [key, burst] of this.#bursts) if (now - burst.seenAt > 5 * LINK_BURST_MS) this.#bursts.delete(key);
  }
}

const datedKey = (event: TrackingEvent) => `${sendKey(event.teamId, event.sendId)}:${event.name}`;

function remember(set: Set<string>, key: string, limit: number): void {
  set.add(key);
  if (set.size > limit) set.delete(set.values().next().value!);
}

function sendKey(teamId: string, sendId: number): string {
  return `${teamId}:${sendId}`;
}

function noteFirst(firsts: Map<string, FirstActivity>, event: TrackingEvent): void {
  const key = sendKey(event.teamId, event.sendId);
  const first = firsts.get(key) ?? { team_id: event.teamId, id: event.sendId, opened_at: null, clicked_at: null };
  const at = event.occurredAt.toISOString();
  if (event.name === 'email_opened' && (first.opened_at === null || at < first.opened_at)) first.opened_at = at;
  if (event.name === 'email_clicked' && (first.clicked_at === null || at < first.clicked_at)) first.clicked_at = at;
  firsts.set(key, first);
}
