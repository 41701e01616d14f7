/**
 * Every error code the API answers with, its HTTP status and what it means: the one place a code meets
 * a status. Services refuse with codes and know nothing of HTTP; the endpoint adapter, the middleware
 * and the OpenAPI document all read this table, so a code cannot have two statuses or go undocumented.
 */
export const ERROR_CODES = {
  // Requests the API cannot read (any route)
  malformed_json: { status: 400, description: 'The body is not valid JSON' },
  validation_error: { status: 400, description: 'A path parameter, query parameter or body field is missing, unknown or invalid; `details.issues` lists each' },
  bad_request: { status: 400, description: 'The request could not be read (for example, its body was cut off)' },
  payload_too_large: {
    status: 413,
    description: "The body is over the route's limit (64 kB; 2 MB for analytics events; 1 MB for a provider's webhook; 4 MB on the codec endpoint), `details.limit_bytes`",
  },
  unsupported_media_type: { status: 415, description: 'The body is not `application/json` (the beacon route also takes `text/plain`), `details.accepted`' },
  unsupported_encoding: { status: 415, description: 'The body\'s content or charset encoding is not supported' },
  route_not_found: { status: 404, description: 'No route for this method and path' },
  internal_error: { status: 500, description: 'Something went wrong on our side; nothing sent was lost' },
  database_unavailable: { status: 503, description: 'Postgres is unreachable (an outage or a restart); nothing was changed; retry after `Retry-After`' },
  // Authentication
  missing_token: { status: 401, description: 'No `Authorization: Bearer` header' },
  invalid_token: {
    status: 401,
    description: 'The token is not valid for this API: its signature or algorithm, issuer, audience, a missing `exp`, or `sub`/`org` that are not UUIDs (`details.reason`, `details.claim`)',
  },
  token_expired: { status: 401, description: 'The token has expired' },
  auth_unavailable: { status: 503, description: 'The identity provider\'s keys could not be fetched' },
  not_a_member: { status: 403, description: "The token's user is not a member of the token's organisation (`details.organization_id`)" },
  admin_required: { status: 403, description: 'Only organisation admins can do this (the role comes from membership, not from the token)' },
  // Any resource
  not_found: { status: 404, description: 'No such resource in the caller\'s organisation (another organisation\'s looks the same)' },
  // Tours
  not_your_progress: { status: 403, description: 'Only the person taking a tour can move it (an admin may read it)' },
  subscription_interest_without_completion: { status: 422, description: 'A subscription interest goes only with a move that completes the tour' },
  tour_has_no_steps: { status: 422, description: 'The tour has no steps to take' },
  tour_not_started: { status: 409, description: 'The tour is not in progress; start it first (`details.current_progress`)' },
  tour_already_finished: { status: 409, description: 'The tour is completed or skipped; start it with `restart: true` to take it again (`details.current_progress`)' },
  version_conflict: { status: 409, description: 'The tour changed since the client saw `expected_version` (`details.current_progress`)' },
  step_mismatch: { status: 409, description: 'The step index or key is not the current step (`details.current_progress`)' },
  step_index_out_of_range: { status: 422, description: 'The step index is outside the tour' },
  unknown_step_key: { status: 422, description: 'The tour has no step with this key' },
  no_previous_step: { status: 422, description: 'Already on the first step' },
  step_not_skippable: { status: 422, description: 'The current step cannot be skipped' },
  invalid_feedback: { status: 422, description: 'The rating is not a whole number from 1 to 5' },
  tour_not_finished: { status: 409, description: 'The tour is not finished yet: feedback after the end waits for it (`details.current_progress`)' },
  feedback_already_given: { status: 409, description: 'This tour has been rated already: feedback is given once (`details.current_progress`)' },
  prerequisites_missing: { status: 409, description: 'The tour needs other tours completed first (`details.missing` names them)' },
  tour_busy: { status: 429, description: 'Too many changes to this tour at once; retry after `Retry-After`' },
  rate_limited: {
    status: 429,
    description:
      'The caller made more of these requests this minute than the limit allows (`details.policy`, `details.limit`, `RATE_LIMIT_*`); retry after `Retry-After`. `RateLimit` and `RateLimit-Policy` say how many remain',
  },
  tour_timeout: { status: 503, description: 'The tour\'s workflow did not answer in time; retry' },
  temporal_unavailable: { status: 503, description: 'The workflow service is unreachable; retry after `Retry-After`' },
  // Authoring, members and experiments (admins)
  duplicate_step_keys: { status: 422, description: 'Step keys repeat within the tour (`details.duplicates`); the whole step list is refused' },
  invalid_condition: { status: 422, description: 'A show or skip rule is not in the rule language (`details.problems`: where and why; docs/api.md#the-rule-language)' },
  unknown_condition_operator: { status: 422, description: 'A rule uses an operator the rule language does not have (`details.operator`, `details.path`, `details.known_operators`)' },
  unknown_prerequisite: { status: 422, description: 'A prerequisite is not a tour of this organisation, or is the tour itself (`details.tour_ids`)' },
  prerequisite_cycle: { status: 422, description: 'The prerequisites would make tours wait on each other in a circle (`details.cycle`)' },
  tour_key_taken: { status: 409, description: 'Another tour of the organisation has this key' },
  tour_published: { status: 409, description: 'A live tour cannot be deleted: unpublish it first' },
  tour_not_published: { status: 409, description: 'The tour has no published version to unpublish, or is not live' },
  version_not_found: { status: 404, description: 'The tour has no such published version (`details.versions` lists them)' },
  ab_test_already_running: { status: 409, description: 'The tour already has a running A/B test (`details.running_test_id`): pause or complete it first' },
  invalid_ab_test_transition: { status: 409, description: 'The A/B test cannot move from its status to the one asked (`details.allowed`)' },
  ab_test_not_draft: { status: 409, description: 'Only a draft A/B test can change its variants or metric: results would mix two designs' },
  unknown_variant_step: { status: 422, description: 'A variant names steps the tour does not have (`details.step_keys`)' },
  invalid_phone: { status: 422, description: 'The phone number is not one (give it with its country code, +44 20 7946 0958)' },
  invalid_time_zone: { status: 422, description: 'The time zone is not an IANA zone name (Europe/Lisbon)' },
  last_admin: { status: 409, description: 'The organisation would be left without an admin' },
  // Integrations
  unknown_provider: { status: 422, description: 'No such provider (`details.known` lists them)' },
  oauth_required: { status: 422, description: 'This provider is connected through its consent screen (`details.start`)' },
  invalid_credentials: { status: 422, description: 'The credentials do not match what the provider needs (fields named, values never echoed)' },
  invalid_settings: { status: 422, description: 'The settings do not match what the provider accepts' },
  integration_exists: { status: 409, description: 'The organisation already has an integration of this provider' },
  not_oauth_provider: { status: 422, description: 'This provider is connected with credentials, not OAuth' },
  oauth_not_configured: { status: 422, description: 'This server has no OAuth client for the provider (`details.variables` names the settings)' },
  invalid_oauth_state: { status: 400, description: 'The consent\'s state is not one we issued, is for another provider or has expired' },
  oauth_denied: { status: 400, description: 'The admin did not grant access at the consent screen' },
  oauth_exchange_failed: { status: 400, description: 'The provider refused the authorisation code' },
  provider_unavailable: { status: 503, description: 'The provider could not be reached; try again' },
  // Outbound rules (docs/security.md)
  outbound_address_forbidden: {
    status: 422,
    description: "The address is not one the provider's calls may reach; `details.rule` names the rule (`loopback`, `private`, `metadata`, `host_not_allowed`, ...), `details.host` and, after DNS, `details.address` say what was refused",
  },
  outbound_redirect_refused: {
    status: 422,
    description: 'The provider answered with a redirect, which is never followed (`details.status`, `details.location_host`); its target received nothing',
  },
  credentials_required: {
    status: 422,
    description: "The account's host changes: send the credentials again in the same request (`details.from_host`, `details.to_host`, `details.fields`)",
  },
  too_many_connection_tests: {
    status: 429,
    description: "The organisation's connection tests are already running at the limit (`details.limit`, `INTEGRATION_TEST_CONCURRENCY`); retry after `Retry-After`",
  },
  // Replays
  already_delivered: { status: 409, description: 'The delivery already succeeded; a replay would send nothing' },
  delivery_not_dead: {
    status: 409,
    description: 'Only a dead delivery is replayed; this one is pending, retrying, being replayed or suppressed (`details.status`), and a replay would race it',
  },
  delivery_not_replayable: { status: 409, description: 'The delivery was planned before calls were kept for replay' },
  delivery_skipped: { status: 409, description: "The route was skipped for want of the member's email or phone (`skip_reason`): nothing was planned to send" },
  integration_disabled: { status: 409, description: 'The integration is disabled; enable it before replaying' },
  // Analytics and realtime
  invalid_beacon_token: { status: 401, description: 'The beacon token is missing, expired or not one this API issued (`details.reason`); mint another' },
  realtime_unavailable: { status: 503, description: 'Live updates cannot be listened for right now (Postgres unreachable); retry after `Retry-After`' },
  // Webhooks
  invalid_signature: {
    status: 401,
    description: "The webhook's signature (or channel token) is missing, malformed, outside the 5-minute tolerance or does not match; `details.reason` says which. Nothing was stored",
  },
  unsupported_tour_event: { status: 422, description: 'This hub does not act on this `event_type` (`details.supported` lists those it does)' },
  unknown_event_type: { status: 422, description: 'A subscription filter names an event type we never send (`details.unknown`, `details.known`)' },
  subscription_paused: { status: 409, description: 'The subscription is paused; resume it (`PATCH` with `status: "active"`) and its pending deliveries go out' },
  // Two-way sync
  conflict_already_resolved: { status: 409, description: 'The conflict was already resolved (`details.resolution`); a second decision changes nothing' },
  no_readable_integrations: { status: 422, description: 'The organisation has no enabled integration that two-way sync reads (`details.readable_providers`)' },
  // Health
  not_ready: { status: 503, description: 'Postgres or Temporal does not answer (`details.checks` says which, `details.reasons` a stable code for each: `timeout`, `unreachable` or `error`)' },
  // The codec endpoint of the Temporal Web UI
  origin_not_allowed: { status: 403, description: 'A browser page on an origin other than the Temporal Web UI\'s (`TEMPORAL_UI_ORIGIN`) called the codec endpoint' },
  payload_not_decodable: { status: 422, description: 'A payload could not be decrypted: its key is not in the keyring (`details.key_id`), or its bytes were changed' },
} as const satisfies Record<string, { status: number; description: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function statusOf(code: ErrorCode): number {
  return ERROR_CODES[code].status;
}
