import type { Config } from '../../config.ts';

/** RFC 8058: the body a mail client POSTs to the List-Unsubscribe URL when the person clicks its button. */
export const ONE_CLICK_BODY = 'List-Unsubscribe=One-Click';

export interface UnsubscribeLinks {
  /** The footer link: opens a page with one confirm button. */
  url: string;
  /** For every marketing email: mail clients show their own unsubscribe button and POST to the URL. */
  headers: { 'List-Unsubscribe': string; 'List-Unsubscribe-Post': string };
}

/** The unsubscribe link for an email and its RFC 8058 one-click headers, for a token from unsubscribeToken(). */
export function unsubscribeHeaders(config: Pick<Config, 'publicUrl'>, token: string): UnsubscribeLinks {
  const url = `${config.publicUrl}/u/${encodeURIComponent(token)}`;
  return { url, headers: { 'List-Unsubscribe': `<${url}>`, 'List-Unsubscribe-Post': ONE_CLICK_BODY } };
}
