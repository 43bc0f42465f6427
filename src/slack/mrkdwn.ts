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

/** Slack's limits for a message: blocks, and characters in one section's text. */
export const MESSAGE_MAX_BLOCKS = 50;
export const SECTION_MAX_CHARS = 3000;

/**
 * One line per item (a list of segments, templates…) packed into as few sections as Slack allows, after
 * `header` and leaving `reserve` blocks for what follows. `shown` says how many lines fit: say how many
 * more there are rather than let Slack refuse the message.
 */
export function packLinesIntoSections<Block>(
  header: Block,
  lines: readonly string[],
  section: (text: string) => Block,
  reserve = 1,
): { blocks: Block[]; shown: number } {
  const blocks: Block[] = [header];
  let current = '';
  let shown = 0;
  for (const line of lines) {
    if (current && current.length + 1 + line.length > SECTION_MAX_CHARS) {
      if (blocks.length >= MESSAGE_MAX_BLOCKS - 1 - reserve) break;
      blocks.push(section(current));
      current = '';
    }
    current = current ? `${current}\n${line}` : line;
    shown += 1;
  }
  if (current) blocks.push(section(current));
  return { blocks, shown };
}
