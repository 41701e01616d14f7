import crypto from 'node:crypto';
import { createSecretBox, parseKeyring, SecretError } from '../../db/secrets';

const box = createSecretBox(parseKeyring(`k1:${crypto.randomBytes(32).toString('base64')}`), 'k1');
const AAD = 'organization_integrations:org:id';

describe('the secret box (AES-256-GCM)', () => {
  it('opens what it sealed, with a 12-byte IV and a 16-byte tag', () => {
    const sealed = box.seal({ apiKey: 'K' }, AAD);
    expect(Buffer.from(sealed.iv, 'base64')).toHaveLength(12);
    expect(Buffer.from(sealed.tag, 'base64')).toHaveLength(16);
    expect(box.open(sealed, AAD)).toEqual({ apiKey: 'K' });
  });

  it('refuses a truncated tag, which Node would otherwise check on its first bytes only', () => {
    const sealed = box.seal({ apiKey: 'K' }, AAD);
    const tag = Buffer.from(sealed.tag, 'base64');
    for (const length of [4, 8, 12, 15]) {
      expect(() => box.open({ ...sealed, tag: tag.subarray(0, length).toString('base64') }, AAD)).toThrow(SecretError);
    }
    const raw = box.sealBytes(Buffer.from('plain'), AAD);
    expect(() => box.openBytes({ ...raw, tag: raw.tag.subarray(0, 12) }, AAD)).toThrow(/tag must be 16 bytes, got 12/);
    expect(() => box.openBytes({ ...raw, iv: raw.iv.subarray(0, 8) }, AAD)).toThrow(/IV must be 12 bytes/);
    expect(Buffer.from(box.openBytes(raw, AAD)).toString()).toBe('plain');
  });

  it('refuses a changed tag, changed ciphertext, another AAD and an unknown key id', () => {
    const sealed = box.seal({ apiKey: 'K' }, AAD);
    const flip = (b64: string) => {
      const b = Buffer.from(b64, 'base64');
      b[0] = b[0]! ^ 1;
      return b.toString('base64');
    };
    expect(() => box.open({ ...sealed, tag: flip(sealed.tag) }, AAD)).toThrow(/could not be decrypted/);
    expect(() => box.open({ ...sealed, ct: flip(sealed.ct) }, AAD)).toThrow(/could not be decrypted/);
    expect(() => box.open(sealed, 'organization_integrations:org:other')).toThrow(/could not be decrypted/);
    expect(() => box.open({ ...sealed, kid: 'k9' }, AAD)).toThrow(/no key "k9"/);
  });
});
