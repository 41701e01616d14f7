import crypto from 'node:crypto';

/**
 * Encryption at rest for provider credentials: AES-256-GCM with a random 96-bit IV per value, the key id
 * stored beside the ciphertext so keys can rotate (`tourhub rotate-key` re-encrypts with the active key).
 */

export interface SealedSecret {
  v: 1;
  kid: string;
  iv: string;
  tag: string;
  ct: string;
}

export interface SecretBox {
  activeKeyId: string;
  seal(value: unknown, aad: string): SealedSecret;
  open<T = unknown>(sealed: SealedSecret, aad: string): T;
  /** A 32-byte key for one purpose (signing OAuth state), derived from the active key with HKDF. */
  deriveKey(purpose: string): Uint8Array;
}

export class SecretError extends Error {}

/** `kid:base64key` pairs, comma-separated; each key 32 bytes. */
export function parseKeyring(spec: string): Map<string, Buffer> {
  const keys = new Map<string, Buffer>();
  for (const part of spec.split(',').map((p) => p.trim()).filter(Boolean)) {
    const i = part.indexOf(':');
    if (i <= 0) throw new SecretError('each key must be written kid:base64key');
    const kid = part.slice(0, i);
    const key = Buffer.from(part.slice(i + 1), 'base64');
    if (!/^[A-Za-z0-9_-]{1,32}$/.test(kid)) throw new SecretError(`key id "${kid}" must be 1-32 letters, digits, - or _`);
    if (key.length !== 32) throw new SecretError(`key "${kid}" must be 32 bytes (base64), got ${key.length}`);
    keys.set(kid, key);
  }
  if (keys.size === 0) throw new SecretError('no keys');
  return keys;
}

export function generateKeyEntry(kid: string): string {
  return `${kid}:${crypto.randomBytes(32).toString('base64')}`;
}

export function createSecretBox(keys: Map<string, Buffer>, activeKeyId: string): SecretBox {
  const active = keys.get(activeKeyId);
  if (!active) throw new SecretError(`active key "${activeKeyId}" is not in the keyring`);
  return {
    activeKeyId,
    seal(value, aad) {
      const iv = crypto.randomBytes(12);
      const cipher = crypto.createCipheriv('aes-256-gcm', active, iv);
      // The AAD binds a ciphertext to its row: a value copied into another integration will not open.
      cipher.setAAD(Buffer.from(aad));
      const ct = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
      return { v: 1, kid: activeKeyId, iv: iv.toString('base64'), tag: cipher.getAuthTag().toString('base64'), ct: ct.toString('base64') };
    },
    open<T>(sealed: SealedSecret, aad: string): T {
      const key = keys.get(sealed.kid);
      if (!key) throw new SecretError(`no key "${sealed.kid}" in the keyring to decrypt with`);
      const decipher = crypto.createDecipheriv('aes-256-gcm', key, Buffer.from(sealed.iv, 'base64'));
      decipher.setAAD(Buffer.from(aad));
      decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
      try {
        const plain = Buffer.concat([decipher.update(Buffer.from(sealed.ct, 'base64')), decipher.final()]);
        return JSON.parse(plain.toString('utf8')) as T;
      } catch {
        throw new SecretError('credentials could not be decrypted (wrong key or tampered data)');
      }
    },
    deriveKey(purpose) {
      return new Uint8Array(crypto.hkdfSync('sha256', active, Buffer.alloc(0), `tourhub:${purpose}`, 32));
    },
  };
}

export function isSealed(value: unknown): value is SealedSecret {
  const v = value as SealedSecret | null;
  return !!v && v.v === 1 && typeof v.kid === 'string' && typeof v.ct === 'string' && typeof v.iv === 'string' && typeof v.tag === 'string';
}
