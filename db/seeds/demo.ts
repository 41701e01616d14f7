import type { Knex } from 'knex';
import { publishIfChanged } from '../repositories/tour-versions';

/**
 * The demo organisation `tourhub dev` seeds: fixed ids so the README's walkthrough can name them.
 * Idempotent: running it again updates the definitions in place, publishes a new version only when one
 * changed, and never touches progress. The organisation creates a member from a token's claims on first
 * use, so a new couple of the demo app can take its tours at once.
 */
export const DEMO = {
  orgId: '0e0d0000-0000-4000-8000-000000000001',
  slug: 'demo',
  adminUserId: 'a0000000-0000-4000-8000-000000000001',
  coupleUserId: 'c0000000-0000-4000-8000-000000000001',
  vendorUserId: 'b0000000-0000-4000-8000-000000000001',
  coupleTourId: 'd0000000-0000-4000-8000-000000000001',
  vendorTourId: 'd0000000-0000-4000-8000-000000000002',
} as const;

interface StepSeed {
  key: string;
  title: string;
  description: string;
  target: string;
  tip: string;
  skippable?: boolean;
  seconds?: number;
}

const COUPLE_STEPS: StepSeed[] = [
  { key: 'welcome', title: 'Welcome to your wedding dashboard', description: 'Everything for your day lives here: timeline, guests, vendors and budget.', target: '#dashboard-header', tip: 'Most couples start planning 12 to 18 months ahead; there is no wrong place to begin.', skippable: false, seconds: 20 },
  { key: 'timeline_setup', title: 'Set your wedding date', description: 'Your date drives every reminder and vendor deadline.', target: '#timeline-date', tip: 'Not sure of the date yet? Pick a season and refine it later.', seconds: 45 },
  { key: 'guest_list', title: 'Start your guest list', description: 'Import contacts or add guests one by one; RSVPs land here.', target: '#guest-list', tip: 'A rough headcount now helps venues quote accurately.', seconds: 60 },
  { key: 'vendor_directory', title: 'Meet your vendors', description: 'Message your planner, photographer and venue from one inbox.', target: '#vendors', tip: 'Book venue and photographer first: they fill up fastest.', seconds: 40 },
  { key: 'budget_tracker', title: 'Track your budget', description: 'See what is paid, what is due and what is left.', target: '#budget', tip: 'Keep 5 to 10 percent aside for surprises.', seconds: 35 },
];

const VENDOR_STEPS: StepSeed[] = [
  { key: 'profile', title: 'Complete your vendor profile', description: 'Couples choose vendors whose profiles show their style.', target: '#vendor-profile', tip: 'Profiles with a portfolio get three times more enquiries.', skippable: false, seconds: 60 },
  { key: 'availability', title: 'Publish your availability', description: 'Block dates you are booked so couples only see open ones.', target: '#availability', tip: 'Saturdays in June and September go first.', seconds: 45 },
  { key: 'packages', title: 'Describe your packages', description: 'Clear packages and prices shorten every conversation.', target: '#packages', tip: 'Three packages is the sweet spot for most couples.', seconds: 90 },
  { key: 'connect_crm', title: 'Connect your CRM', description: 'Send enquiries straight to HoneyBook, Tave or Light Blue.', target: '#integrations', tip: 'Connected vendors answer enquiries twice as fast.', seconds: 30 },
];

export async function seedDemo(db: Knex): Promise<typeof DEMO> {
  await db.transaction(async (trx) => {
    await trx('organizations')
      .insert({ id: DEMO.orgId, slug: DEMO.slug, name: 'Demo Wedding Planning Co.', time_zone: 'America/New_York', subscription_tier: 'enterprise', auto_provision_members: true })
      .onConflict('id')
      .merge(['slug', 'name', 'time_zone', 'auto_provision_members']);
    await trx('organization_members')
      .insert([
        // `.test` addresses: reserved, so a demo delivery can never reach a real inbox.
        { organization_id: DEMO.orgId, user_id: DEMO.adminUserId, role: 'admin', display_name: 'Demo Planner', email: 'planner@demo.tourhub.test' },
        { organization_id: DEMO.orgId, user_id: DEMO.coupleUserId, role: 'member', display_name: 'Ava Reed', email: 'couple@demo.tourhub.test', phone: '+15005550006' },
        { organization_id: DEMO.orgId, user_id: DEMO.vendorUserId, role: 'member', display_name: 'Demo Photographer', email: 'photographer@demo.tourhub.test' },
      ])
      .onConflict(['organization_id', 'user_id'])
      .merge(['role', 'display_name', 'email', 'phone']);
    await upsertTour(trx, {
      id: DEMO.coupleTourId,
      tour_key: 'couple-welcome',
      name: 'Welcome to your wedding dashboard',
      description: 'A five-step tour of the couple dashboard: date, guests, vendors and budget.',
      tour_type: 'onboarding',
      audience: ['couples'],
      wedding_phase: 'engagement',
      minutes: 5,
      steps: COUPLE_STEPS,
    });
    await upsertTour(trx, {
      id: DEMO.vendorTourId,
      tour_key: 'vendor-setup',
      name: 'Set up your vendor workspace',
      description: 'Profile, availability, packages and CRM: ready for your first enquiry.',
      tour_type: 'onboarding',
      audience: ['photographers', 'venues', 'florists', 'caterers', 'all_suppliers'],
      wedding_phase: 'planning',
      minutes: 8,
      steps: VENDOR_STEPS,
    });
  });
  return DEMO;
}

async function upsertTour(
  trx: Knex.Transaction,
  t: { id: string; tour_key: string; name: string; description: string; tour_type: string; audience: string[]; wedding_phase: string; minutes: number; steps: StepSeed[] },
): Promise<void> {
  await trx.raw(
    `INSERT INTO tour_definitions (id, organization_id, tour_key, name, description, tour_type, target_audience, wedding_phase, estimated_duration_minutes)
     VALUES (?, ?, ?, ?, ?, ?, ?::audience_enum[], ?, ?)
     ON CONFLICT (id) DO UPDATE SET name = excluded.name, description = excluded.description,
       target_audience = excluded.target_audience, wedding_phase = excluded.wedding_phase,
       estimated_duration_minutes = excluded.estimated_duration_minutes, updated_at = now()`,
    [t.id, DEMO.orgId, t.tour_key, t.name, t.description, t.tour_type, t.audience, t.wedding_phase, t.minutes],
  );
  for (const [order, s] of t.steps.entries()) {
    await trx('tour_steps')
      .insert({
        organization_id: DEMO.orgId,
        tour_id: t.id,
        step_order: order,
        step_key: s.key,
        title: s.title,
        description: s.description,
        target_element: s.target,
        content: JSON.stringify({ body: s.description }),
        wedding_tip: s.tip,
        skip_enabled: s.skippable ?? true,
        estimated_time_seconds: s.seconds ?? 30,
      })
      .onConflict(['tour_id', 'step_key'])
      .merge(['step_order', 'title', 'description', 'target_element', 'content', 'wedding_tip', 'skip_enabled', 'estimated_time_seconds']);
  }
  await publishIfChanged(trx, t.id, DEMO.adminUserId);
}
