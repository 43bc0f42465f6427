/** The error code of a failed Web API call (`not_in_channel`, `hash_conflict`…), or undefined for other errors. */
export const slackErrorCode = (error: unknown): string | undefined => (error as { data?: { error?: string } } | undefined)?.data?.error;

/** The bot cannot post in that channel until someone acts: invite it, or pick another channel. */
export const CANNOT_POST_CODES: ReadonlySet<string> = new Set(['not_in_channel', 'channel_not_found', 'is_archived']);
