import type { RouteGroup } from '../../openapi';
import { listConflicts } from './conflicts/list';
import { resolveConflict } from './conflicts/resolve';
import { createIntegration } from './create';
import { listDeliveries } from './deliveries/list';
import { replayDelivery } from './deliveries/replay';
import { replayIntegration } from './deliveries/replay-integration';
import { disableIntegration } from './disable';
import { getIntegration } from './get';
import { integrationHealth } from './health';
import { listIntegrations } from './list';
import { listIntegrationLogs } from './logs';
import { oauthCallback } from './oauth/callback';
import { startOAuth } from './oauth/start';
import { listProviders } from './providers';
import { deleteIntegration } from './remove';
import { startResync } from './resync/start';
import { getResync } from './resync/status';
import { testIntegration } from './test-connection';
import { updateIntegration } from './update';

export const integrationsRoutes: RouteGroup = {
  prefix: '/api/integrations',
  access: 'admin',
  bodyParsed: true,
  // The fixed paths ('/providers', '/deliveries', '/health', '/conflicts', '/resync', '/oauth/...') before '/{id}', so none is read as an id.
  endpoints: [
    listProviders,
    listIntegrations,
    listDeliveries,
    replayDelivery,
    integrationHealth,
    listConflicts,
    resolveConflict,
    startResync,
    getResync,
    startOAuth,
    createIntegration,
    getIntegration,
    updateIntegration,
    disableIntegration,
    replayIntegration,
    deleteIntegration,
    testIntegration,
    listIntegrationLogs,
  ],
};

/** The provider redirects the admin's browser here without our bearer token; the signed state authenticates. */
export const oauthCallbackRoutes: RouteGroup = {
  prefix: '/api/integrations',
  access: 'public',
  bodyParsed: true,
  endpoints: [oauthCallback],
};
