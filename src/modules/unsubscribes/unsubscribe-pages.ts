import { escapeHtml } from '../../lib/escape-html.ts';

/**
 * The pages of GET/POST /u/<token>: small, self-contained (no external assets, inline style only),
 * readable on a phone, in English or Japanese. Pure builders: the route picks the page, tests call them.
 */

export type PageLanguage = 'en' | 'ja';

export interface PageContext {
  lang: PageLanguage;
  /** Who the emails come from, e.g. "Acme Marketing". */
  sender: string;
  /** The address, masked (y•••@example.co.jp): enough to recognise, not to harvest from a forwarded link. */
  maskedEmail: string;
}

/** The field our confirm button posts, telling a person's click from a mail client's one-click request. */
export const CONFIRM_FIELD = { name: 'confirm', value: 'page' } as const;

export const UNSUBSCRIBE_TEXTS = {
  en: {
    confirmTitle: 'Unsubscribe',
    confirmHeading: (sender: string) => `Stop emails from ${sender}?`,
    confirmBody: (email: string) => `You will no longer receive marketing emails at ${email}.`,
    confirmButton: 'Unsubscribe',
    doneTitle: 'Unsubscribed',
    doneHeading: 'You are unsubscribed',
    alreadyHeading: 'You are already unsubscribed',
    doneBody: (sender: string, email: string) => `${sender} will not send marketing emails to ${email} any more.`,
    doneNote: 'Unsubscribed by mistake? Reply to one of our emails and we will add you back.',
    invalidTitle: 'Link not valid',
    invalidHeading: 'This unsubscribe link is not valid',
    invalidBody: 'It may be incomplete. Open it again from the email, or use the unsubscribe link of a more recent email.',
    unknownTitle: 'Subscription not found',
    unknownHeading: 'We could not find this subscription',
    unknownBody: 'It may have been removed already. If you still receive our emails, reply to one of them and ask to be removed.',
    failedTitle: 'Something went wrong',
    failedHeading: 'Something went wrong on our side',
    failedBody: (reference: string) => `You have not been unsubscribed yet. Please try again in a few minutes. (Reference ${reference})`,
  },
  ja: {
    confirmTitle: '配信停止',
    confirmHeading: (sender: string) => `${sender}からのメール配信を停止しますか？`,
    confirmBody: (email: string) => `${email} 宛てのマーケティングメールの配信を停止します。`,
    confirmButton: '配信を停止する',
    doneTitle: '配信停止',
    doneHeading: '配信を停止しました',
    alreadyHeading: '配信はすでに停止されています',
    doneBody: (sender: string, email: string) => `今後、${sender}から ${email} 宛てにマーケティングメールをお送りすることはありません。`,
    doneNote: '誤って停止された場合は、お送りしたメールに返信してお知らせください。',
    invalidTitle: '無効なリンク',
    invalidHeading: 'この配信停止リンクは無効です',
    invalidBody: 'リンクが途中で切れている可能性があります。メールからもう一度開くか、より新しいメールの配信停止リンクをご利用ください。',
    unknownTitle: '登録が見つかりません',
    unknownHeading: 'この配信登録は見つかりませんでした',
    unknownBody: 'すでに削除されている可能性があります。引き続きメールが届く場合は、そのメールに返信して配信停止をお申し付けください。',
    failedTitle: 'エラー',
    failedHeading: '処理中にエラーが発生しました',
    failedBody: (reference: string) => `配信はまだ停止されていません。しばらくしてからもう一度お試しください。（参照番号 ${reference}）`,
  },
} satisfies Record<PageLanguage, unknown>;

export function buildConfirmPage(context: PageContext): string {
  const t = UNSUBSCRIBE_TEXTS[context.lang];
  // No action attribute: the form posts back to the URL the page came from, whatever proxy is in front.
  return page(context.lang, t.confirmTitle, [
    `<h1>${escapeHtml(t.confirmHeading(context.sender))}</h1>`,
    `<p>${escapeHtml(t.confirmBody(context.maskedEmail))}</p>`,
    `<form method="post"><input type="hidden" name="${CONFIRM_FIELD.name}" value="${CONFIRM_FIELD.value}"><button type="submit">${escapeHtml(t.confirmButton)}</button></form>`,
  ]);
}

export function buildDonePage(context: PageContext & { already: boolean }): string {
  const t = UNSUBSCRIBE_TEXTS[context.lang];
  return page(context.lang, t.doneTitle, [
    `<h1>${escapeHtml(context.already ? t.alreadyHeading : t.doneHeading)}</h1>`,
    `<p>${escapeHtml(t.doneBody(context.sender, context.maskedEmail))}</p>`,
    `<p class="note">${escapeHtml(t.doneNote)}</p>`,
  ]);
}

export type ErrorPageKind = 'invalid' | 'unknown' | 'failed';

export function buildErrorPage(lang: PageLanguage, kind: ErrorPageKind, reference = ''): string {
  const t = UNSUBSCRIBE_TEXTS[lang];
  const [title, heading, body] =
    kind === 'invalid' ? [t.invalidTitle, t.invalidHeading, t.invalidBody] : kind === 'unknown' ? [t.unknownTitle, t.unknownHeading, t.unknownBody] : [t.failedTitle, t.failedHeading, t.failedBody(reference)];
  return page(lang, title, [`<h1>${escapeHtml(heading)}</h1>`, `<p>${escapeHtml(body)}</p>`]);
}

/** "Acme Marketing <news@acme.com>" → "Acme Marketing"; a bare address → its domain. */
export function senderName(from: string): string {
  const match = /^\s*"?([^"<]*?)"?\s*<([^>]+)>\s*$/.exec(from);
  const name = match?.[1]?.trim();
  if (name) return name;
  const address = match?.[2] ?? from;
  return address.slice(address.lastIndexOf('@') + 1).trim() || address.trim();
}

/** "yui.sato@example.co.jp" → "y•••@example.co.jp". */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at < 1) return '•••';
  return `${email.slice(0, 1)}•••${email.slice(at)}`;
}

/** The page's language: the lead's locale when known, else the browser's preference, else English. */
export function pageLanguage(locale: string | null | undefined, acceptLanguage: string | undefined): PageLanguage {
  if (locale) return locale.toLowerCase().startsWith('ja') ? 'ja' : 'en';
  const preferences = (acceptLanguage ?? '')
    .split(',')
    .map((part, order) => {
      const [tag = '', ...params] = part.trim().split(';');
      const q = Number(params.find((param) => param.trim().startsWith('q='))?.trim().slice(2) ?? 1);
      return { tag: tag.trim().toLowerCase(), q: Number.isFinite(q) ? q : 0, order };
    })
    .filter((preference) => preference.tag && preference.q > 0)
    .sort((a, b) => b.q - a.q || a.order - b.order);
  for (const { tag } of preferences) {
    if (tag === 'ja' || tag.startsWith('ja-')) return 'ja';
    if (tag === 'en' || tag.startsWith('en-') || tag === '*') return 'en';
  }
  return 'en';
}

const STYLE = `
:root { color-scheme: light dark; }
body { margin: 0; font-family: system-ui, -apple-system, "Segoe UI", "Hiragino Sans", "Hiragino Kaku Gothic ProN", "Noto Sans JP", "Yu Gothic", Meiryo, sans-serif;
  line-height: 1.6; background: Canvas; color: CanvasText; }
main { max-width: 32rem; margin: 12vh auto 2rem; padding: 0 1.25rem; }
h1 { font-size: 1.5rem; line-height: 1.3; margin: 0 0 1rem; }
p { margin: 0 0 1rem; }
.note { opacity: 0.8; font-size: 0.95rem; }
button { font: inherit; font-weight: 600; min-height: 44px; padding: 0.6rem 1.4rem; border: 0; border-radius: 6px;
  background: #1d4ed8; color: #fff; cursor: pointer; }
button:hover { background: #1e40af; }
button:focus-visible { outline: 3px solid #f59e0b; outline-offset: 2px; }
`.trim();

function page(lang: PageLanguage, title: string, body: string[]): string {
  return `<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${body.join('\n')}
</main>
</body>
</html>
`;
}
