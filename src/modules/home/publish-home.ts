import type { Services } from '../../services.ts';
import { rolesOf } from '../roles/roles.ts';
import { buildHomeView } from './build-home-view.ts';

export async function publishHome(services: Services, teamId: string, userId: string): Promise<void> {
  const person = await rolesOf(services, teamId, userId);
  await services.slack.views.publish({ user_id: userId, view: buildHomeView(person) });
}
