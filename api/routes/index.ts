import { abTestRoutes } from './ab-tests';
import { analyticsAdminRoutes, analyticsBeaconRoutes, analyticsRoutes } from './analytics';
import { codecPublicRoutes, codecRoutes } from './codec';
import { healthRoutes } from './health';
import { integrationsRoutes, oauthCallbackRoutes } from './integrations';
import { memberRoutes } from './members';
import { notificationsRoutes } from './notifications';
import { organizationRoutes } from './organization';
import { privacyRoutes } from './privacy';
import { referenceRoutes } from './reference';
import { tourConfigRoutes } from './tour-config';
import { toursRoutes } from './tours';
import { inboundWebhookRoutes, webhookAdminRoutes } from './webhooks';

/**
 * Every endpoint, in the groups createApp mounts them in (api/app.ts): health before the body parser;
 * the codec endpoint with its own CORS, body limit and authentication; then the public routes, then,
 * behind the token check, one group per resource.
 */
export const ROUTE_GROUPS = {
  beforeBodyParser: [healthRoutes, inboundWebhookRoutes],
  codec: { public: codecPublicRoutes, authenticated: codecRoutes },
  public: [referenceRoutes, oauthCallbackRoutes, analyticsBeaconRoutes],
  // The admins' /api/tours/config and /api/tours/ab-tests before the members' /api/tours/{id}.
  authenticated: [
    tourConfigRoutes, abTestRoutes, toursRoutes, analyticsRoutes, analyticsAdminRoutes, privacyRoutes, integrationsRoutes, notificationsRoutes,
    memberRoutes, organizationRoutes, webhookAdminRoutes,
  ],
};

export const ALL_ROUTE_GROUPS = [
  ...ROUTE_GROUPS.beforeBodyParser,
  ROUTE_GROUPS.codec.public,
  ROUTE_GROUPS.codec.authenticated,
  ...ROUTE_GROUPS.public,
  ...ROUTE_GROUPS.authenticated,
];

/** The reference's tags, in the order it shows them. */
export const TAGS: Record<string, string> = {
  Tours: "Product tours and the caller's progress through them",
  Authoring: 'Creating, changing, versioning and publishing tours, their steps and targeting (admins)',
  Experiments: 'A/B tests of tours and their results (admins)',
  Analytics: 'Tour events in (from pages and sendBeacon) and the dashboard out (admins)',
  Members: "The organisation's members: who takes tours, their contact details and profile (admins)",
  Privacy: "A person's tour data: export and erasure (admins)",
  Integrations: "The organisation's integrations with CRM, calendar, payment, email and SMS providers (admins)",
  OAuth: 'Connecting Google Calendar and Outlook through their consent screens',
  Deliveries: 'What the hub sent to each integration, every attempt, and replays of dead deliveries (admins)',
  Sync: "Two-way sync: an organisation's full resync and its progress, and the conflicts a person resolves (admins)",
  Notifications: "Events for the organisation's admins (admins)",
  Webhooks: 'Inbound webhooks (tour events, Stripe, Twilio, calendar notifications: signed, no token) and outbound subscriptions (admins)',
  Codec: "The Temporal Web UI's codec endpoint: decrypts and encrypts workflow payloads for operators (admins)",
  Health: 'Liveness and readiness probes (no token)',
  Reference: 'This document and the page that renders it (no token)',
};
