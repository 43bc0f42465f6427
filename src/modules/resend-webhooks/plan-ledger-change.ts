import type { LedgerState } from '../delivery/ledger-queries.ts';
import type { SendUpdate, WebhookSendRow } from './queries.ts';
import { isHardBounce, type ResendEmailEvent } from './resend-webhook-event.ts';

/**
 * Where Resend's news may move a ledger row. Webhooks arrive out of order and more than once, so a row
 * never goes backwards: an email in flight may end any way, a delivered one may still bounce or be
 * reported as spam, and bounced and complained are final (as are failed and suppressed: Resend is done).
 */
const AFTER_SENDING: readonly LedgerState[] = ['delivered', 'delivery_delayed', 'bounced', 'complained', 'failed', 'suppressed'];
const NEXT_STATES: Partial<Record<LedgerState, readonly LedgerState[]>> = {
  sending: AFTER_SENDING,
  accepted: AFTER_SENDING,
  delivery_delayed: AFTER_SENDING,
  delivered: ['bounced', 'complained'],
};

const STATE_OF_EVENT = {
  'email.delivered': 'delivered',
  'email.delivery_delayed': 'delivery_delayed',
  'email.complained': 'complained',
  'email.failed': 'failed',
  'email.suppressed': 'suppressed',
} as const satisfies Partial<Record<ResendEmailEvent['type'], LedgerState>>;

/** applied: the row changed. duplicate-state: it already said so. out-of-order: it is past that point. */
export type LedgerOutcome = 'applied' | 'duplicate-state' | 'out-of-order';

export interface LedgerChange {
  outcome: LedgerOutcome;
  /** Undefined: nothing to write. */
  update?: SendUpdate;
}

/**
 * What one event does to its ledger row; a soft bounce is counted. Resend's opens and clicks change
 * nothing: the first human open and click are dated by Nurture's own tracking (src/modules/tracking).
 */
export function planLedgerChange(send: Pick<WebhookSendRow, 'state' | 'opened_at' | 'clicked_at'>, event: ResendEmailEvent): LedgerChange {
  const at = event.created_at;
  const keep: SendUpdate = { state: send.state, deliveredAt: null, openedAt: null, clickedAt: null, softBounce: false };
  switch (event.type) {
    case 'email.opened':
    case 'email.clicked':
      return { outcome: 'applied' };
    case 'email.bounced':
      if (!isHardBounce(event)) return { outcome: 'applied', update: { ...keep, softBounce: true } };
      return moveTo(send.state, 'bounced', keep);
    default:
      return moveTo(send.state, STATE_OF_EVENT[event.type], { ...keep, deliveredAt: event.type === 'email.delivered' ? at : null });
  }
}

function moveTo(current: LedgerState, next: LedgerState, keep: SendUpdate): LedgerChange {
  // Each delay is counted, like a soft bounce, while the email is still on its way.
  const delayed = next === 'delivery_delayed';
  if (current === next) return delayed ? { outcome: 'applied', update: { ...keep, softBounce: true } } : { outcome: 'duplicate-state' };
  if (!NEXT_STATES[current]?.includes(next)) return { outcome: 'out-of-order' };
  return { outcome: 'applied', update: { ...keep, state: next, softBounce: delayed } };
}
