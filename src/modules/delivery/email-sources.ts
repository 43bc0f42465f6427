import { newsletterSource } from '../newsletters/newsletter-source.ts';
import { sequenceSource } from '../sequences/sequence-source.ts';
import type { EmailSourceKind, EmailSources } from './email-source.ts';

/** Every kind of email the delivery pipeline sends, one line each (newsletters, then sequences). */
const SOURCES: readonly EmailSourceKind[] = [newsletterSource, sequenceSource];

export const EMAIL_SOURCES: EmailSources = new Map(SOURCES.map((source) => [source.kind, source]));
