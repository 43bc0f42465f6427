import { newsletterSource } from '../newsletters/newsletter-source.ts';
import { oneToOneSource } from '../one-to-one/one-to-one-source.ts';
import { sequenceSource } from '../sequences/sequence-source.ts';
import type { EmailSourceKind, EmailSources } from './email-source.ts';

/** Every kind of email the delivery pipeline sends, one line each (newsletters, sequences, reps' 1:1 emails). */
const SOURCES: readonly EmailSourceKind[] = [newsletterSource, sequenceSource, oneToOneSource];

export const EMAIL_SOURCES: EmailSources = new Map(SOURCES.map((source) => [source.kind, source]));
