import crypto from 'node:crypto';
import { defaultPayloadConverter, METADATA_ENCODING_KEY, type Payload } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { createSecretBox, parseKeyring } from '../../db/secrets';
import { createCodecService, createPayloadCodec, ENCRYPTED_ENCODING, KEY_ID_METADATA, PayloadCodecError } from '../../services/payload-codec';

const keyEntry = (kid: string) => `${kid}:${crypto.randomBytes(32).toString('base64')}`;
const OLD = keyEntry('k1');
const NEW = keyEntry('k2');

const person = { email: 'jane.doe@example.com', firstName: 'Jane', phone: '+15551234567' };
const payloadOf = (value: unknown): Payload => defaultPayloadConverter.toPayload(value);
const valueOf = (p: Payload): unknown => defaultPayloadConverter.fromPayload(p);
const text = (b: Uint8Array | null | undefined) => Buffer.from(b ?? []).toString('utf8');

describe('the payload codec', () => {
  const box = createSecretBox(parseKeyring(OLD), 'k1');
  const codec = createPayloadCodec(box);

  it('seals the whole payload (metadata included) and opens it again to the same value', async () => {
    const original = payloadOf({ person, feedback: 'Was it helpful? yes, and $1 too?' });
    const [sealed] = await codec.encode([original]);
    expect(text(sealed!.metadata![METADATA_ENCODING_KEY])).toBe(ENCRYPTED_ENCODING);
    expect(text(sealed!.metadata![KEY_ID_METADATA])).toBe('k1');
    expect(Object.keys(sealed!.metadata!).sort()).toEqual([METADATA_ENCODING_KEY, KEY_ID_METADATA].sort());
    // Neither the value nor its original encoding (json/plain) is readable in what Temporal stores.
    const stored = Buffer.from(sealed!.data!).toString('latin1');
    for (const needle of [person.email, person.firstName, person.phone, 'json/plain']) expect(stored).not.toContain(needle);
    // IV (12 bytes), the original payload serialised (GCM adds no padding), tag (16 bytes).
    expect(sealed!.data!.length).toBe(12 + temporal.api.common.v1.Payload.encode(original).finish().length + 16);
    const [opened] = await codec.decode([sealed!]);
    expect(valueOf(opened!)).toEqual({ person, feedback: 'Was it helpful? yes, and $1 too?' });
    expect(text(opened!.metadata![METADATA_ENCODING_KEY])).toBe('json/plain');
  });

  it('uses a fresh IV for every payload, so the same value never seals to the same bytes', async () => {
    const [a, b] = await codec.encode([payloadOf(person), payloadOf(person)]);
    expect(Buffer.from(a!.data!).subarray(0, 12).equals(Buffer.from(b!.data!).subarray(0, 12))).toBe(false);
    expect(Buffer.from(a!.data!).equals(Buffer.from(b!.data!))).toBe(false);
  });

  it('passes a payload without its encoding through decode unchanged (histories recorded before the codec)', async () => {
    const plain = payloadOf({ status: 'completed' });
    const empty: Payload = { metadata: {}, data: new Uint8Array() };
    expect(await codec.decode([plain, empty])).toEqual([plain, empty]);
  });

  it('refuses a key id the keyring does not have, and names it', async () => {
    const [sealed] = await codec.encode([payloadOf(person)]);
    const stranger = createPayloadCodec(createSecretBox(parseKeyring(keyEntry('k9')), 'k9'));
    await expect(stranger.decode([sealed!])).rejects.toThrow(PayloadCodecError);
    await expect(stranger.decode([sealed!])).rejects.toThrow(/key "k1".*no key "k1" in the keyring/);
  });

  it('refuses changed ciphertext, a changed tag, a truncated tag and a key id swapped for another', async () => {
    const [sealed] = await codec.encode([payloadOf(person)]);
    const data = Buffer.from(sealed!.data!);
    const flip = (i: number) => {
      const copy = Buffer.from(data);
      copy[i] = copy[i]! ^ 0x01;
      return { ...sealed!, data: copy };
    };
    await expect(codec.decode([flip(12)])).rejects.toThrow(/could not be decrypted/); // first ciphertext byte
    await expect(codec.decode([flip(data.length - 1)])).rejects.toThrow(/could not be decrypted/); // last tag byte
    await expect(codec.decode([flip(0)])).rejects.toThrow(/could not be decrypted/); // the IV
    await expect(codec.decode([{ ...sealed!, data: data.subarray(0, data.length - 4) }])).rejects.toThrow(/could not be decrypted/);
    await expect(codec.decode([{ ...sealed!, data: data.subarray(0, 20) }])).rejects.toThrow(/too short/);
    const both = createPayloadCodec(createSecretBox(parseKeyring(`${OLD},${NEW}`), 'k2'));
    const swapped = { ...sealed!, metadata: { ...sealed!.metadata, [KEY_ID_METADATA]: Buffer.from('k2') } };
    await expect(both.decode([swapped])).rejects.toThrow(/key "k2".*could not be decrypted/);
    const noKid = { ...sealed!, metadata: { [METADATA_ENCODING_KEY]: sealed!.metadata![METADATA_ENCODING_KEY]! } };
    await expect(codec.decode([noKid])).rejects.toThrow(/without its key id/);
  });

  it('opens what an old key sealed after a rotation, and seals new payloads with the new key', async () => {
    const [before] = await codec.encode([payloadOf(person)]);
    const rotated = createPayloadCodec(createSecretBox(parseKeyring(`${OLD},${NEW}`), 'k2'));
    const [after] = await rotated.encode([payloadOf(person)]);
    expect(text(after!.metadata![KEY_ID_METADATA])).toBe('k2');
    expect((await rotated.decode([before!, after!])).map(valueOf)).toEqual([person, person]);
    // Once the old key is removed, what it sealed no longer opens: keep it as long as histories need it.
    const newOnly = createPayloadCodec(createSecretBox(parseKeyring(NEW), 'k2'));
    await expect(newOnly.decode([before!])).rejects.toThrow(/no key "k1"/);
  });

  it('does not open a credential sealed by the same keyring as a payload (the AAD differs)', async () => {
    const sealedCredential = box.sealBytes(Buffer.from('{"apiKey":"K"}'), 'organization_integrations:x:y');
    const forged: Payload = {
      metadata: { [METADATA_ENCODING_KEY]: Buffer.from(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: Buffer.from('k1') },
      data: Buffer.concat([sealedCredential.iv, sealedCredential.ct, sealedCredential.tag]),
    };
    await expect(codec.decode([forged])).rejects.toThrow(/could not be decrypted/);
  });
});

describe('the codec service (what the codec endpoint runs)', () => {
  const service = createCodecService(createSecretBox(parseKeyring(OLD), 'k1'));

  it('encodes and decodes payloads in the JSON form the Temporal UI sends', async () => {
    const json = { metadata: { encoding: Buffer.from('json/plain').toString('base64') }, data: Buffer.from(JSON.stringify(person)).toString('base64') };
    const [encoded] = await service.encode([json]);
    expect(Buffer.from(encoded!.metadata!.encoding!, 'base64').toString()).toBe(ENCRYPTED_ENCODING);
    const decoded = await service.decode([encoded!, json]);
    expect(decoded).toEqual({ ok: true, value: [json, json] });
  });

  it('refuses a payload it cannot decrypt with its key id, instead of answering half-decoded', async () => {
    const [encoded] = await createCodecService(createSecretBox(parseKeyring(keyEntry('gone')), 'gone')).encode([{ data: 'e30=' }]);
    const result = await service.decode([encoded!]);
    expect(result).toMatchObject({ ok: false, refusal: { code: 'payload_not_decodable', details: { key_id: 'gone' } } });
  });
});
