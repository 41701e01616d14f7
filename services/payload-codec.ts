import { METADATA_ENCODING_KEY, type DataConverter, type Payload, type PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { GCM_IV_BYTES, GCM_TAG_BYTES, SecretError, type SecretBox } from '../db/secrets';
import { ok, refuse, type Result } from './result';

/**
 * Personal data never reaches Temporal in the clear: every payload our clients and workers send (workflow
 * and activity inputs and results, update arguments, memos, summaries, failures) is the whole original
 * payload sealed with AES-256-GCM under the keyring that encrypts provider credentials (db/secrets.ts),
 * with a fresh 12-byte IV and a 16-byte tag: `data` is IV || ciphertext || tag, and the metadata names
 * the encoding and the key id, so a payload sealed before a rotation still opens with its old key.
 * A payload without our encoding (every history recorded before the codec existed) passes through decode
 * as it is, so those runs keep replaying.
 */

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';
/** Binds a sealed payload to this use: a sealed credential or delivery cannot be passed off as a payload. */
const AAD = 'tourhub:temporal-payload';

const utf8 = new TextEncoder();
const text = new TextDecoder();

export class PayloadCodecError extends Error {
  constructor(
    message: string,
    public readonly keyId?: string,
  ) {
    super(message);
    this.name = 'PayloadCodecError';
  }
}

export function createPayloadCodec(box: SecretBox): PayloadCodec {
  return {
    async encode(payloads) {
      return payloads.map((payload) => {
        const sealed = box.sealBytes(temporal.api.common.v1.Payload.encode(payload).finish(), AAD);
        return {
          metadata: { [METADATA_ENCODING_KEY]: utf8.encode(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: utf8.encode(sealed.kid) },
          data: Buffer.concat([sealed.iv, sealed.ct, sealed.tag]),
        };
      });
    },
    async decode(payloads) {
      return payloads.map(decodeOne);
    },
  };

  function decodeOne(payload: Payload): Payload {
    const encoding = payload.metadata?.[METADATA_ENCODING_KEY];
    if (!encoding || text.decode(encoding) !== ENCRYPTED_ENCODING) return payload;
    const kidBytes = payload.metadata?.[KEY_ID_METADATA];
    if (!kidBytes) throw new PayloadCodecError('An encrypted payload without its key id cannot be decrypted');
    const kid = text.decode(kidBytes);
    const data = payload.data ?? new Uint8Array();
    if (data.length < GCM_IV_BYTES + GCM_TAG_BYTES) throw new PayloadCodecError('An encrypted payload is too short to hold its IV and tag', kid);
    let plain: Uint8Array;
    try {
      plain = box.openBytes(
        { kid, iv: data.subarray(0, GCM_IV_BYTES), ct: data.subarray(GCM_IV_BYTES, data.length - GCM_TAG_BYTES), tag: data.subarray(data.length - GCM_TAG_BYTES) },
        AAD,
      );
    } catch (err) {
      if (err instanceof SecretError) throw new PayloadCodecError(`A payload sealed with key "${kid}" could not be decrypted: ${err.message}`, kid);
      throw err;
    }
    return temporal.api.common.v1.Payload.decode(plain);
  }
}

/** Resolved here so every client and worker names the same module the workflow bundle carries. */
export const FAILURE_CONVERTER_PATH = require.resolve('../workflows/failure-converter');

/**
 * The data converter of every Temporal client and worker we create: the payload codec above, and failures
 * whose messages travel inside an (encrypted) payload. A workflow bundle built ahead of time must be built
 * with the same failureConverterPath (worker.ts `bundleTourWorkflows`). `encrypt: false` leaves the codec
 * out, for the benchmark that weighs it (TEMPORAL_PAYLOAD_CODEC=off, refused in production).
 */
export function tourDataConverter(box: SecretBox, opts: { encrypt?: boolean } = {}): DataConverter {
  if (opts.encrypt === false) return { failureConverterPath: FAILURE_CONVERTER_PATH };
  return { payloadCodecs: [createPayloadCodec(box)], failureConverterPath: FAILURE_CONVERTER_PATH };
}

/**
 * Whether a client call failed because something it had to read was sealed under a key no longer in the
 * keyring (a schedule's action after a rotation): what was sealed from configuration can be made again.
 */
export function isUndecodable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof PayloadCodecError) return true;
  }
  return false;
}

/** A payload as the Temporal Web UI and CLI send it to a codec endpoint: proto3 JSON, bytes in base64. */
export interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

/** ...and as the endpoint answers: every field written out. */
export type AnsweredPayload = Required<JsonPayload>;

function fromJson(p: JsonPayload): Payload {
  return {
    metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
    data: Buffer.from(p.data ?? '', 'base64'),
  };
}

function toJson(p: Payload): AnsweredPayload {
  return {
    metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
    data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
  };
}

/**
 * The codec endpoint's two operations (POST /codec/decode and /codec/encode). A payload that cannot be
 * decrypted (a key no longer in the keyring, changed bytes) is refused with its key id rather than
 * answered half-decoded.
 */
export function createCodecService(box: SecretBox) {
  const codec = createPayloadCodec(box);
  return {
    async decode(payloads: JsonPayload[]): Promise<Result<AnsweredPayload[], 'payload_not_decodable'>> {
      try {
        return ok((await codec.decode(payloads.map(fromJson))).map(toJson));
      } catch (err) {
        if (!(err instanceof PayloadCodecError)) throw err;
        return refuse('payload_not_decodable', err.message, err.keyId ? { key_id: err.keyId } : {});
      }
    },
    async encode(payloads: JsonPayload[]): Promise<AnsweredPayload[]> {
      return (await codec.encode(payloads.map(fromJson))).map(toJson);
    },
  };
}
