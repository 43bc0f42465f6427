import type { Sql } from '../../db/client.ts';
import type { Logger } from '../../lib/logger.ts';
import type { EmailLabels, EmailSources } from '../delivery/email-source.ts';
import type { ScorableEvent } from '../scoring/score-events.ts';
import { BatchWriter, type BatchWriterOptions } from './batch-writer.ts';
import { LINK_BURST_MS, MACHINE_REASONS, type Verdict } from './classify-activity.ts';
import {
  correctBursts,
  escapeArrayText,
  insertTrackingEvents,
  markSendsActive,
  sendSources,
  type BurstCorrection,
  type FirstActivity,
  type SendSource,
  TrackingEventColumnsBuilder,
} from './queries.ts';

/** An open or click that was answered: it must be stored, whatever happens next. */
export interface TrackingEvent {
  teamId: string;
  leadId: number;
  sendId: number;
  name: 'email_opened' | 'email_clicked';
  /** Clicks: where the link went (segments filter on it). */
  url: string | undefined;
  occurredAt: Date;
  verdict: Verdict;
}

interface Buffered extends TrackingEvent {
  state: 'pending' | 'writing' | 'written';
  /** sendKey(teamId, sendId), made once. */
  send: string;
}

/** A stored human click waiting out its burst window before it is handed to scoring. */
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

/** A ledger row seen, the key of its source's labels, and its events' properties start made from them (#labelsOf). */
interface KnownSend {
  source: SendSource;
  labelsKey: string;
  propertiesStart?: { from: string; escaped: string };
}

/** What waits to be written: an answered event, or a burst's correction of clicks already written. */
type Pending = { kind: 'event'; event: Buffered } | { kind: 'correction'; correction: BurstCorrection };

/** A scoring job takes up to 1,000 events (score-events-queue.ts), whatever the size of a write. */
const SCORED_PER_HAND_OVER = 1000;
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
  readonly #onStored: TrackingWriterOptions['onStored'];
  readonly #batches: BatchWriter<Pending>;
  /** In the order stored, so by readyAt (each waits the same window): the ready ones are at the front. */
  #clicksToScore: ToScore[] = [];
  #scoreTimer: NodeJS.Timeout | undefined;
  readonly #bursts = new Map<string, Burst>();
  /** Each source's labels as JSON text without its closing brace, for a short while. */
  readonly #labels = new Map<string, { labels: string; at: number }>();
  /** Ledger rows seen (their source never changes), and those whose first human open / click is stored: skipped next time. */
  readonly #sends = new Map<string, KnownSend>();
  readonly #dated = new Set<string>();
  #stored = 0;
  /** Not stored: their ledger row is gone (the lead was erased). */
  #skipped = 0;

  constructor(sql: Sql, sources: EmailSources, logger: Logger, options: TrackingWriterOptions = {}) {
    this.#sql = sql;
    this.#sources = sources;
    this.#logger = logger.child({ component: 'tracking-writer' });
    this.#onStored = options.onStored;
    this.#batches = new BatchWriter('tracking events', this.#logger, (batch) => this.#write(batch), options);
  }

  /** Counters for logs and the benchmark. */
  get stats() {
    return { recorded: this.#batches.stats.recorded, stored: this.#stored, dropped: this.#batches.stats.dropped + this.#skipped };
  }

  /** Takes an answered event; `linkCount` is its email's number of tracked links (for the burst rule). */
  record(event: TrackingEvent, linkCount: number): void {
    const { teamId, leadId, sendId, name, url, occurredAt, verdict } = event;
    const buffered: Buffered = { teamId, leadId, sendId, name, url, occurredAt, verdict, state: 'pending', send: sendKey(teamId, sendId) };
    // An email of one link cannot have all of its two or more links clicked at once.
    if (event.name === 'email_clicked' && event.url !== undefined && linkCount >= 2) this.#judgeBurst(buffered, linkCount);
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
    await this.#handToScoring([], Number.POSITIVE_INFINITY);
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
      const columns = new TrackingEventColumnsBuilder();
      const firsts = new Map<string, FirstActivity>();
      for (const event of batch) {
        const propertiesStart = labels.get(event.send);
        // The ledger row is gone: the lead was erased, and its events with it.
        if (propertiesStart === undefined) continue;
        columns.add(event, propertiesStart);
        if (event.verdict.verdict === 'human' && !this.#dated.has(datedKey(event))) noteFirst(firsts, event);
      }
      const stored = await this.#sql.begin(async (tx) => {
        const inserted = await insertTrackingEvents(tx, columns.build());
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
    const opens: Buffered[] = [];
    for (const event of batch) {
      if (event.verdict.verdict !== 'human') continue;
      if (event.name === 'email_clicked') this.#clicksToScore.push({ event, readyAt: now + LINK_BURST_MS });
      else opens.push(event);
    }
    void this.#handToScoring(opens, now);
  }

  /** Hands over `opens` and the clicks ready by `until` that are still a person's (a burst may have turned them), per workspace. */
  async #handToScoring(opens: readonly Buffered[], until: number): Promise<void> {
    let ready = 0;
    while (ready < this.#clicksToScore.length && this.#clicksToScore[ready]!.readyAt <= until) ready++;
    const clicks = this.#clicksToScore.splice(0, ready);
    this.#scheduleScoring();
    const byTeam = new Map<string, ScorableEvent[]>();
    const add = (event: Buffered) => {
      if (event.verdict.verdict !== 'human') return;
      let events = byTeam.get(event.teamId);
      if (!events) byTeam.set(event.teamId, (events = []));
      events.push({
        leadId: event.leadId,
        kind: 'email',
        name: event.name,
        urlPath: null,
        properties: event.url !== undefined ? { url: event.url } : {},
        occurredAt: event.occurredAt,
        verdict: 'human',
      });
    };
    for (const event of opens) add(event);
    for (const { event } of clicks) add(event);
    for (const [teamId, events] of byTeam) {
      for (let from = 0; from < events.length; from += SCORED_PER_HAND_OVER) {
        await this.#onStored!(teamId, events.slice(from, from + SCORED_PER_HAND_OVER)).catch((error) =>
          this.#logger.error({ err: error, teamId, events: events.length }, 'tracking events stored but not handed to scoring'),
        );
      }
    }
  }

  /** A timer for the first click still waiting out its window, unless one is set or the writer stopped. */
  #scheduleScoring(): void {
    const first = this.#clicksToScore[0];
    if (!first || this.#scoreTimer || this.#batches.stopped) return;
    this.#scoreTimer = setTimeout(() => {
      this.#scoreTimer = undefined;
      void this.#handToScoring([], Date.now());
    }, Math.max(0, first.readyAt - Date.now()));
  }

  /**
   * By ledger row, the start of its events' properties: its labels and send_id as JSON text, without the
   * closing brace (a click adds its url), escaped for an array literal (TrackingEventColumnsBuilder). The
   * rows come in one query, each source's labels from a short-lived cache (awaited only when not there: a
   * flush holds thousands of rows).
   */
  async #labelsOf(batch: readonly Buffered[]): Promise<Map<string, string>> {
    const wanted = new Map<string, { team_id: string; id: number }>();
    for (const event of batch) {
      if (!this.#sends.has(event.send)) wanted.set(event.send, { team_id: event.teamId, id: event.sendId });
    }
    for (const source of await sendSources(this.#sql, [...wanted.values()])) {
      this.#sends.set(sendKey(source.team_id, source.id), { source, labelsKey: `${source.team_id}:${source.source_kind}:${source.source_id}:${source.source_step}` });
      if (this.#sends.size > SENDS_KEPT) this.#sends.delete(this.#sends.keys().next().value!);
    }
    const bySend = new Map<string, string>();
    const now = Date.now();
    for (const event of batch) {
      if (bySend.has(event.send)) continue;
      const send = this.#sends.get(event.send);
      if (!send) continue;
      const cached = this.#labels.get(send.labelsKey);
      const labels = cached && now - cached.at < LABELS_TTL_MS ? cached.labels : await this.#loadLabels(send);
      // Escaped once per ledger row while its source's labels stay the same text.
      if (send.propertiesStart?.from !== labels) {
        send.propertiesStart = { from: labels, escaped: escapeArrayText(`${labels}${labels === '{' ? '' : ','}"send_id":${send.source.id}`) };
      }
      bySend.set(event.send, send.propertiesStart.escaped);
    }
    return bySend;
  }

  /** A source's labels as JSON text without its closing brace, kept for LABELS_TTL_MS. */
  async #loadLabels({ source: send, labelsKey }: KnownSend): Promise<string> {
    const source = this.#sources.get(send.source_kind);
    const found: EmailLabels = source ? await source.labels(this.#sql, send.team_id, send.source_id, send.source_step) : { message: `${send.source_kind} ${send.source_id}` };
    const labels = JSON.stringify(found).slice(0, -1);
    this.#labels.delete(labelsKey);
    this.#labels.set(labelsKey, { labels, at: Date.now() });
    if (this.#labels.size > LABELS_KEPT) this.#labels.delete(this.#labels.keys().next().value!);
    return labels;
  }

  /**
   * Every link (two or more) of one email clicked within LINK_BURST_MS: all those clicks, and any more
   * in the window, are a scanner's. Clicks already written are corrected by the next flush.
   */
  #judgeBurst(click: Buffered, linkCount: number): void {
    const key = click.send;
    const at = click.occurredAt.getTime();
    let burst = this.#bursts.get(key);
    if (!burst || at - burst.firstAt > LINK_BURST_MS) {
      burst = { firstAt: at, seenAt: Date.now(), urls: new Set(), clicks: [], isScanner: false };
      this.#bursts.set(key, burst);
    }
    burst.urls.add(click.url!);
    burst.clicks.push(click);
    if (!burst.isScanner && burst.urls.size < linkCount) return;
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

const datedKey = (event: Buffered) => `${event.send}:${event.name}`;

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
