interface TextObject {
  text?: string;
}

/** The words a person sees in a reply: its fallback text and each block's text and fields, one per line. */
export function replyText(body: unknown): string {
  const reply = body as { text?: string; blocks?: Array<{ text?: TextObject; fields?: TextObject[]; elements?: TextObject[] }> };
  const lines = [reply.text ?? ''];
  for (const block of reply.blocks ?? []) {
    if (block.text?.text) lines.push(block.text.text);
    for (const part of [...(block.fields ?? []), ...(block.elements ?? [])]) if (part.text && typeof part.text === 'string') lines.push(part.text);
  }
  return lines.join('\n');
}
