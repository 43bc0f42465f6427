/** The words a person sees in a reply: its fallback text and the text of each block, one per line. */
export function replyText(body: unknown): string {
  const reply = body as { text?: string; blocks?: Array<{ text?: { text?: string } }> };
  return [reply.text ?? '', ...(reply.blocks ?? []).map((block) => block.text?.text ?? '')].join('\n');
}
