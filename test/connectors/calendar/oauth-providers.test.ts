import { connectionReset, useNock } from '../../support/nock';
import nock from 'nock';
import { googleOAuth, microsoftOAuth } from '../../../connectors/calendar/oauth-providers';
import { newConsentSecrets, s256Challenge } from '../../../services/oauth-state';
import { ConnectorError } from '../../../connectors/errors';
import { caught } from './helpers';
import { testOutbound } from '../../support/connectors';

const NOW = Date.parse('2026-11-23T12:00:00Z');
const now = () => NOW;
const client = { clientId: 'client-123', clientSecret: 'shh-secret', timeoutMs: 2000, guard: testOutbound(), now };
// RFC 7636, appendix B: a verifier and its S256 challenge.
const PKCE = { codeVerifier: 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk', codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM' };

useNock();

describe('googleOAuth', () => {
  it('builds the consent URL with offline access, forced consent, the calendar.events scope and an S256 code challenge', () => {
    const url = new URL(googleOAuth.authorizeUrl({ clientId: 'client-123', redirectUri: 'https://app.example.com/oauth/callback', state: 'st@te/1', codeChallenge: PKCE.codeChallenge }));
    expect(`${url.origin}${url.pathname}`).toBe('https://accounts.google.com/o/oauth2/v2/auth');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      client_id: 'client-123',
      redirect_uri: 'https://app.example.com/oauth/callback',
      response_type: 'code',
      scope: 'https://www.googleapis.com/auth/calendar.events',
      access_type: 'offline',
      prompt: 'consent',
      include_granted_scopes: 'true',
      state: 'st@te/1',
      code_challenge: PKCE.codeChallenge,
      code_challenge_method: 'S256',
    });
  });

  it('exchanges the code with its PKCE verifier in a form-encoded POST and turns expires_in into expiresAt', async () => {
    const scope = nock('https://oauth2.googleapis.com', { reqheaders: { 'content-type': 'application/x-www-form-urlencoded' } })
      .post('/token', {
        grant_type: 'authorization_code',
        code: '4/0Ab-code',
        redirect_uri: 'https://app.example.com/oauth/callback',
        client_id: 'client-123',
        client_secret: 'shh-secret',
        code_verifier: PKCE.codeVerifier,
      })
      .reply(200, { access_token: 'ya29.access', expires_in: 3599, refresh_token: '1//refresh', scope: 'https://www.googleapis.com/auth/calendar.events', token_type: 'Bearer' });
    await expect(googleOAuth.exchangeCode({ ...client, code: '4/0Ab-code', redirectUri: 'https://app.example.com/oauth/callback', codeVerifier: PKCE.codeVerifier })).resolves.toEqual({
      accessToken: 'ya29.access',
      refreshToken: '1//refresh',
      expiresAt: NOW + 3_599_000,
      scope: 'https://www.googleapis.com/auth/calendar.events',
    });
    expect(scope.isDone()).toBe(true);
  });

  it('refreshes with grant_type=refresh_token; a response without a refresh token leaves it out', async () => {
    const scope = nock('https://oauth2.googleapis.com')
      .post('/token', { grant_type: 'refresh_token', refresh_token: '1//refresh', client_id: 'client-123', client_secret: 'shh-secret' })
      .reply(200, { access_token: 'ya29.fresh', expires_in: 3599, token_type: 'Bearer' });
    await expect(googleOAuth.refreshGrant(client)('1//refresh')).resolves.toEqual({ accessToken: 'ya29.fresh', expiresAt: NOW + 3_599_000 });
    expect(scope.isDone()).toBe(true);
  });

  it('uses an overridden token URL', async () => {
    const scope = nock('http://127.0.0.1:8089').post('/oauth/token').reply(200, { access_token: 'local', expires_in: 60 });
    await expect(googleOAuth.refreshGrant({ ...client, tokenUrl: 'http://127.0.0.1:8089/oauth/token' })('r')).resolves.toMatchObject({ accessToken: 'local' });
    expect(scope.isDone()).toBe(true);
  });

  it('reports a revoked refresh token (invalid_grant) as a non-retryable error', async () => {
    const scope = nock('https://oauth2.googleapis.com').post('/token').reply(400, { error: 'invalid_grant', error_description: 'Token has been expired or revoked.' });
    const err = await caught(() => googleOAuth.refreshGrant(client)('1//revoked'));
    expect(err).toBeInstanceOf(ConnectorError);
    expect(err).toMatchObject({ code: 'bad_request', retryable: false, status: 400, provider: 'google-oauth' });
    expect((err as Error).message).toContain('Token has been expired or revoked.');
    expect(scope.isDone()).toBe(true);
  });

  it('reports an answer without an access token as unexpected', async () => {
    const scope = nock('https://oauth2.googleapis.com').post('/token').reply(200, { token_type: 'Bearer' });
    await expect(caught(() => googleOAuth.refreshGrant(client)('r'))).resolves.toMatchObject({ code: 'unexpected_response', retryable: false });
    expect(scope.isDone()).toBe(true);
  });

  it('reports 5xx and broken connections as retryable', async () => {
    const scope = nock('https://oauth2.googleapis.com').post('/token').reply(503, 'unavailable').post('/token').replyWithError(connectionReset());
    await expect(caught(() => googleOAuth.refreshGrant(client)('r'))).resolves.toMatchObject({ code: 'provider_unavailable', retryable: true });
    await expect(caught(() => googleOAuth.refreshGrant(client)('r'))).resolves.toMatchObject({ code: 'network', retryable: true });
    expect(scope.isDone()).toBe(true);
  });
});

describe('microsoftOAuth', () => {
  it('builds the consent URL on the tenant with offline_access, Calendars.ReadWrite and an S256 code challenge', () => {
    const url = new URL(
      microsoftOAuth.authorizeUrl({ clientId: 'client-123', redirectUri: 'https://app.example.com/oauth/callback', state: 's1', tenant: 'contoso.onmicrosoft.com', codeChallenge: PKCE.codeChallenge }),
    );
    expect(`${url.origin}${url.pathname}`).toBe('https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/authorize');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      client_id: 'client-123',
      response_type: 'code',
      redirect_uri: 'https://app.example.com/oauth/callback',
      response_mode: 'query',
      scope: 'offline_access https://graph.microsoft.com/Calendars.ReadWrite',
      state: 's1',
      code_challenge: PKCE.codeChallenge,
      code_challenge_method: 'S256',
    });
    expect(microsoftOAuth.authorizeUrl({ clientId: 'c', redirectUri: 'https://a/cb', state: 's', codeChallenge: PKCE.codeChallenge })).toMatch(/^https:\/\/login\.microsoftonline\.com\/common\/oauth2\/v2\.0\/authorize\?/);
  });

  it('exchanges the code at the common token endpoint, with scope and the PKCE verifier', async () => {
    const scope = nock('https://login.microsoftonline.com', { reqheaders: { 'content-type': 'application/x-www-form-urlencoded' } })
      .post('/common/oauth2/v2.0/token', {
        grant_type: 'authorization_code',
        code: 'M.C507-code',
        redirect_uri: 'https://app.example.com/oauth/callback',
        client_id: 'client-123',
        client_secret: 'shh-secret',
        scope: 'offline_access https://graph.microsoft.com/Calendars.ReadWrite',
        code_verifier: PKCE.codeVerifier,
      })
      .reply(200, { token_type: 'Bearer', scope: 'https://graph.microsoft.com/Calendars.ReadWrite', expires_in: 4529, ext_expires_in: 4529, access_token: 'eyJ0.access', refresh_token: 'M.R3-refresh' });
    await expect(microsoftOAuth.exchangeCode({ ...client, code: 'M.C507-code', redirectUri: 'https://app.example.com/oauth/callback', codeVerifier: PKCE.codeVerifier })).resolves.toEqual({
      accessToken: 'eyJ0.access',
      refreshToken: 'M.R3-refresh',
      expiresAt: NOW + 4_529_000,
      scope: 'https://graph.microsoft.com/Calendars.ReadWrite',
    });
    expect(scope.isDone()).toBe(true);
  });

  it('refreshes on the tenant token endpoint and returns the rotated refresh token', async () => {
    const scope = nock('https://login.microsoftonline.com')
      .post('/9188040d-6c67-4c5b-b112-36a304b66dad/oauth2/v2.0/token', {
        grant_type: 'refresh_token',
        refresh_token: 'M.R3-refresh',
        client_id: 'client-123',
        client_secret: 'shh-secret',
        scope: 'offline_access https://graph.microsoft.com/Calendars.ReadWrite',
      })
      .reply(200, { token_type: 'Bearer', expires_in: 3600, access_token: 'eyJ0.fresh', refresh_token: 'M.R3-rotated' });
    await expect(microsoftOAuth.refreshGrant({ ...client, tenant: '9188040d-6c67-4c5b-b112-36a304b66dad' })('M.R3-refresh')).resolves.toEqual({
      accessToken: 'eyJ0.fresh',
      refreshToken: 'M.R3-rotated',
      expiresAt: NOW + 3_600_000,
    });
    expect(scope.isDone()).toBe(true);
  });

  it('reports invalid_grant as a non-retryable error with the AAD description', async () => {
    const scope = nock('https://login.microsoftonline.com')
      .post('/common/oauth2/v2.0/token')
      .reply(400, { error: 'invalid_grant', error_description: 'AADSTS70000: The provided value for the code parameter is not valid.' });
    const err = await caught(() => microsoftOAuth.exchangeCode({ ...client, code: 'used', redirectUri: 'https://a/cb', codeVerifier: PKCE.codeVerifier }));
    expect(err).toMatchObject({ code: 'bad_request', retryable: false, provider: 'microsoft-identity' });
    expect((err as Error).message).toContain('AADSTS70000');
    expect(scope.isDone()).toBe(true);
  });
});

describe('PKCE secrets', () => {
  it('derives the S256 challenge as RFC 7636 does', () => {
    expect(s256Challenge(PKCE.codeVerifier)).toBe(PKCE.codeChallenge);
  });

  it('makes a fresh 43-character verifier (32 random bytes) with its challenge for every consent', () => {
    const a = newConsentSecrets();
    const b = newConsentSecrets();
    expect(a.codeVerifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(a.codeChallenge).toBe(s256Challenge(a.codeVerifier));
    expect(new Set([a.codeVerifier, b.codeVerifier, a.browserBinding, b.browserBinding, a.nonce, b.nonce]).size).toBe(6);
  });
});
