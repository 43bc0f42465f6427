import type { Logger } from '../../lib/logger.ts';

export interface BatchWriterOptions {
  /** How long an item may wait for others to share its write. */
  flushIntervalMs?: number;
  /** Items per write. */
  maxBatch?: number;
  /** While the database is away: past this, the oldest items are dropped (and logged) rather than the process. */
  maxBuffered?: number;
}

/**
 * What the tracking endpoints need to answer first and lose nothing: items wait in memory and every few
 * milliseconds (or every `maxBatch` items) `write` stores a batch. A write that throws puts its batch
 * back, in order, and is retried with backoff; stop() writes what is left (startNurture calls it after the
 * HTTP server closed, before the pool does). Writes run one at a time.
 */
export class BatchWriter<T> {
  readonly #what: string;
  readonly #logger: Logger;
  readonly #write: (batch: T[]) => Promise<void>;
  readonly #flushIntervalMs: number;
  readonly #maxBatch: number;
  readonly #maxBuffered: number;
  #buffer: T[] = [];
  #timer: NodeJS.Timeout | undefined;
  /** Writes run one at a time, whoever asks (the timer, flush(), stop()). */
  #tail: Promise<unknown> = Promise.resolve();
  #failures = 0;
  #stopped = false;
  /** recorded: taken; dropped: given up (buffer full, or refused at stop). The writer counts what it stored. */
  readonly stats = { recorded: 0, dropped: 0 };

  /** `what` names the items in logs ("tracking events", "site visits"). */
  constructor(what: string, logger: Logger, write: (batch: T[]) => Promise<void>, options: BatchWriterOptions = {}) {
    this.#what = what;
    this.#logger = logger;
    this.#write = write;
    this.#flushIntervalMs = options.flushIntervalMs ?? 25;
    this.#maxBatch = options.maxBatch ?? 1000;
    this.#maxBuffered = options.maxBuffered ?? 200_000;
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  record(item: T): void {
    this.#buffer.push(item);
    this.stats.recorded++;
    if (this.#buffer.length > this.#maxBuffered) {
      const dropped = this.#buffer.splice(0, this.#buffer.length - this.#maxBuffered);
      this.stats.dropped += dropped.length;
      this.#logger.error({ dropped: dropped.length }, `${this.#what} dropped: the database has not taken them for too long`);
    }
    this.#schedule(this.#buffer.length >= this.#maxBatch ? 0 : this.#flushIntervalMs);
  }

  /** Writes everything buffered so far (tests and stop()). Rejects when the database refuses. */
  async flush(): Promise<void> {
    while (this.#buffer.length > 0) await this.#exclusive(() => this.#writeOnce());
    await this.#tail;
  }

  /** Writes what is left, retrying a few times; what the database still refuses is logged as lost. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.flush();
        return;
      } catch (error) {
        if (attempt >= STOP_ATTEMPTS) {
          this.stats.dropped += this.#buffer.length;
          this.#logger.error({ err: error, lost: this.#buffer.length }, `${this.#what} could not be stored before stopping`);
          this.#buffer = [];
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
      }
    }
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
      void this.#exclusive(() => this.#writeOnce()).then(
        () => {
          this.#failures = 0;
          if (this.#buffer.length > 0) this.#schedule(this.#buffer.length >= this.#maxBatch ? 0 : this.#flushIntervalMs);
        },
        (error) => {
          this.#failures++;
          this.#logger.error({ err: error, buffered: this.#buffer.length, failures: this.#failures }, `${this.#what} not stored yet; retrying`);
          this.#schedule(Math.min(5000, 100 * 2 ** (this.#failures - 1)));
        },
      );
    }, delayMs);
  }

  async #writeOnce(): Promise<void> {
    if (this.#buffer.length === 0) return;
    const batch = this.#buffer.splice(0, this.#maxBatch);
    try {
      await this.#write(batch);
    } catch (error) {
      this.#buffer.unshift(...batch);
      throw error;
    }
  }
}

const STOP_ATTEMPTS = 5;
