import crypto from 'node:crypto';

/**
 * Encryption at rest for provider credentials and, through the same keyring, for Temporal payloads
 * (services/payload-codec.ts): AES-256-GCM with a random 96-bit IV per value and a 128-bit tag, the key id
 * stored beside the ciphertext so keys can rotate (`tourhub rotate-key` re-encrypts credentials with the
 * active key; payloads sealed with an older key open as long as that key stays in the keyring).
 */

export interface SealedSecret {
  v: 1;
  kid: string;
  iv: string;
  tag: string;
  ct: string;
}

/** Bytes sealed with one key of the keyring: what a Temporal payload carries. */
export interface SealedBytes {
  kid: string;
  iv: Uint8Array;
  ct: Uint8Array;
  tag: Uint8Array;
}

export const GCM_IV_BYTES = 12;
export const GCM_TAG_BYTES = 16;

export interface SecretBox {
  activeKeyId: string;
  seal(value: unknown, aad: string): SealedSecret;
  open<T = unknown>(sealed: SealedSecret, aad: string): T;
  /** Seals raw bytes with the active key. */
  sealBytes(plain: Uint8Array, aad: string): SealedBytes;
  /** Opens bytes sealed with any key of the keyring; SecretError when the key is unknown or the data was changed. */
  openBytes(sealed: SealedBytes, aad: string): Uint8Array;
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
  const sealBytes = (plain: Uint8Array, aad: string): SealedBytes => ({ kid: activeKeyId, ...gcmEncrypt(active, plain, aad) });
  const openBytes = (sealed: SealedBytes, aad: string): Uint8Array => {
    const key = keys.get(sealed.kid);
    if (!key) throw new SecretError(`no key "${sealed.kid}" in the keyring to decrypt with`);
    return gcmDecrypt(key, sealed, aad);
  };
  return {
    activeKeyId,
    sealBytes,
    openBytes,
    seal(value, aad) {
      // The AAD binds a ciphertext to its row: a value copied into another integration will not open.
      const { kid, iv, ct, tag } = sealBytes(Buffer.from(JSON.stringify(value), 'utf8'), aad);
      const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
      return { v: 1, kid, iv: b64(iv), tag: b64(tag), ct: b64(ct) };
    },
    open<T>(sealed: SealedSecret, aad: string): T {
      let plain: Uint8Array;
      try {
        plain = openBytes({ kid: sealed.kid, iv: Buffer.from(sealed.iv, 'base64'), ct: Buffer.from(sealed.ct, 'base64'), tag: Buffer.from(sealed.tag, 'base64') }, aad);
      } catch (err) {
        if (err instanceof SecretError && err.message.startsWith('no key')) throw err;
        throw new SecretError('credentials could not be decrypted (wrong key or tampered data)');
      }
      return JSON.parse(Buffer.from(plain).toString('utf8')) as T;
    },
    deriveKey(purpose) {
      return new Uint8Array(crypto.hkdfSync('sha256', active, Buffer.alloc(0), `tourhub:${purpose}`, 32));
    },
  };
}

function gcmEncrypt(key: Buffer, plain: Uint8Array, aad: string): Omit<SealedBytes, 'kid'> {
  const iv = crypto.randomBytes(GCM_IV_BYTES);
  const cipher = crypto.createCipheriv('aes-256-gcm', key, iv, { authTagLength: GCM_TAG_BYTES });
  cipher.setAAD(Buffer.from(aad));
  const ct = Buffer.concat([cipher.update(plain), cipher.final()]);
  return { iv, ct, tag: cipher.getAuthTag() };
}

/**
 * Node would accept a tag as short as 4 bytes (and forgeries get that much easier): both the decipher and
 * an explicit length check insist on the full 16 bytes, and on the 12-byte IV every value is sealed with.
 */
function gcmDecrypt(key: Buffer, sealed: Omit<SealedBytes, 'kid'>, aad: string): Uint8Array {
  if (sealed.tag.length !== GCM_TAG_BYTES) throw new SecretError(`the authentication tag must be ${GCM_TAG_BYTES} bytes, got ${sealed.tag.length}`);
  if (sealed.iv.length !== GCM_IV_BYTES) throw new SecretError(`the IV must be ${GCM_IV_BYTES} bytes, got ${sealed.iv.length}`);
  const decipher = crypto.createDecipheriv('aes-256-gcm', key, sealed.iv, { authTagLength: GCM_TAG_BYTES });
  decipher.setAAD(Buffer.from(aad));
  decipher.setAuthTag(sealed.tag);
  try {
    return Buffer.concat([decipher.update(sealed.ct), decipher.final()]);
  } catch {
    throw new SecretError('the data could not be decrypted (wrong key or tampered data)');
  }
}

export function isSealed(value: unknown): value is SealedSecret {
  const v = value as SealedSecret | null;
  return !!v && v.v === 1 && typeof v.kid === 'string' && typeof v.ct === 'string' && typeof v.iv === 'string' && typeof v.tag === 'string';
}
