/**
 * The From header for a workspace's emails: its sender name on the address of EMAIL_FROM (the domain
 * verified in Resend), e.g. `Acme Marketing <news@mail.acme.com>`. Quotes keep commas and the like in a
 * name from being read as more addresses.
 */
export function fromAddress(emailFrom: string, senderName: string | null | undefined): string {
  const match = /^(.*?)\s*<([^<>]+)>\s*$/.exec(emailFrom);
  const address = match ? match[2]! : emailFrom.trim();
  const name = (senderName ?? match?.[1] ?? '').trim().replace(/^"(.*)"$/, '$1');
  if (!name) return address;
  const safe = name.replace(/[\r\n]+/g, ' ');
  return /^[\w .'-]+$/.test(safe) ? `${safe} <${address}>` : `"${safe.replace(/["\\]/g, '\\$&')}" <${address}>`;
}

/** The display name in EMAIL_FROM, if it has one. */
export function fromName(emailFrom: string): string | undefined {
  const match = /^(.*?)\s*<[^<>]+>\s*$/.exec(emailFrom);
  const name = match?.[1]?.trim().replace(/^"(.*)"$/, '$1');
  return name || undefined;
}
