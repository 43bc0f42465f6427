import type { Queryable } from '../../db/client.ts';
import type { AlertView } from './build-alert-message.ts';
import { alertLeads, recentLeadActivity, type LeadAlert } from './queries.ts';

/** Timeline entries an alert shows, and how far back they go. */
const TIMELINE_EVENTS = 5;
const TIMELINE_DAYS = 14;

/** The alerts with their leads and latest activity, in alert order; an erased lead's alert is left out. */
export async function loadAlertViews(sql: Queryable, teamId: string, alerts: readonly LeadAlert[], now: Date): Promise<AlertView[]> {
  if (alerts.length === 0) return [];
  const leadIds = [...new Set(alerts.map((alert) => alert.leadId))];
  const [leads, activity] = await Promise.all([
    alertLeads(sql, teamId, leadIds),
    recentLeadActivity(sql, teamId, leadIds, new Date(now.getTime() - TIMELINE_DAYS * 86_400_000), TIMELINE_EVENTS),
  ]);
  const leadById = new Map(leads.map((lead) => [lead.id, lead]));
  return alerts.flatMap((alert) => {
    const lead = leadById.get(alert.leadId);
    // Oldest first: a timeline reads forward.
    return lead ? [{ alert, lead, timeline: activity.filter((event) => event.leadId === alert.leadId).reverse() }] : [];
  });
}
