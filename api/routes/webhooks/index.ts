import type { RouteGroup } from '../../openapi';
import { listEventTypes } from './event-types';
import { receiveGoogleCalendarPush } from './inbound/google-calendar';
import { receiveGraphNotification } from './inbound/microsoft-graph';
import { receiveStripeEvent } from './inbound/stripe';
import { receiveTourEvent, tourEventsHealth } from './inbound/tour-events';
import { receiveTwilioStatus } from './inbound/twilio';
import { listSigningSecrets } from './signing-secrets/list';
import { revokeSigningSecret } from './signing-secrets/revoke';
import { rotateSigningSecret } from './signing-secrets/rotate';
import { createSubscription } from './subscriptions/create';
import { getSubscriptionDelivery, listSubscriptionDeliveries, resendSubscriptionDelivery } from './subscriptions/deliveries';
import { getSubscription } from './subscriptions/get';
import { listSubscriptions } from './subscriptions/list';
import { deleteSubscription } from './subscriptions/remove';
import { rotateSubscriptionSecret } from './subscriptions/rotate-secret';
import { updateSubscription } from './subscriptions/update';

/**
 * Inbound webhooks: no bearer token (a signature or channel token is the proof), and mounted before the
 * JSON body parser, since a signature covers the body's exact bytes (each reads them with express.raw).
 */
export const inboundWebhookRoutes: RouteGroup = {
  prefix: '/api/webhooks',
  access: 'public',
  bodyParsed: false,
  endpoints: [tourEventsHealth, receiveTourEvent, receiveStripeEvent, receiveTwilioStatus, receiveGoogleCalendarPush, receiveGraphNotification],
};

/** Signing secrets and outbound subscriptions, for the organisation's admins. */
export const webhookAdminRoutes: RouteGroup = {
  prefix: '/api/webhooks',
  access: 'admin',
  bodyParsed: true,
  endpoints: [
    listEventTypes,
    listSigningSecrets,
    rotateSigningSecret,
    revokeSigningSecret,
    listSubscriptions,
    createSubscription,
    getSubscription,
    updateSubscription,
    deleteSubscription,
    rotateSubscriptionSecret,
    listSubscriptionDeliveries,
    getSubscriptionDelivery,
    resendSubscriptionDelivery,
  ],
};
