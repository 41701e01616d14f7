import { outboundGuard } from '../../cli/services';
import { loadConfig } from '../../config';

describe('the outbound rules a process starts with', () => {
  it('refuses CONNECTOR_BASE_URLS naming a provider the registry does not know, so a typo fails at start', () => {
    expect(() => outboundGuard(loadConfig({ CONNECTOR_BASE_URLS: 'tavee=http://127.0.0.1:4011' }))).toThrow(/unknown providers: tavee/);
  });

  it('sends a known provider to the deployment’s base URL', async () => {
    const guard = outboundGuard(loadConfig({ CONNECTOR_BASE_URLS: 'tave=http://127.0.0.1:4011/api/v2' }));
    expect(guard.baseUrlFor('tave')).toBe('http://127.0.0.1:4011/api/v2');
    expect(guard.baseUrlFor('stripe')).toBeUndefined();
    await guard.close();
  });
});
