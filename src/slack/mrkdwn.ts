/**
 * Slack mrkdwn treats &, < and > as markup: lead data, file names and CSV cells must stay text (a
 * company called "<!channel>" must not ping a channel).
 */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Shortens text to Slack's limit for a field (section 3,000, option 75…), marking the cut with an ellipsis. */
export function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
