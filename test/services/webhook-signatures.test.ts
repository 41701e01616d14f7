import crypto from 'node:crypto';
import { tokenHash, tokenMatches, tourSignature, tourSignatureHeader, verifyTourSignature } from '../../services/webhook-signatures';

const SECRET = 'wss_test-secret';
const NOW = 1_795_000_000;
const body = Buffer.from('{"event_type":"tour_started","event_id":"e1"}');

describe('x-wedsync-signature', () => {
  it('is HMAC-SHA256 over "<t>.<raw body>" in hex (a fixed vector, computed independently)', () => {
    const expected = crypto.createHmac('sha256', SECRET).update(`${NOW}.${body.toString()}`).digest('hex');
    expect(tourSignature(SECRET, NOW, body)).toBe(expected);
    expect(tourSignatureHeader(SECRET, NOW, body)).toBe(`t=${NOW},v1=${expected}`);
  });

  it('accepts a signature by any secret held, within 5 minutes either way', () => {
    const header = tourSignatureHeader(SECRET, NOW, body);
    expect(verifyTourSignature(header, body, ['wss_other', SECRET], NOW + 300)).toEqual({ ok: true });
    expect(verifyTourSignature(header, body, [SECRET], NOW - 300)).toEqual({ ok: true });
    expect(verifyTourSignature(header, body, [SECRET], NOW + 301)).toEqual({ ok: false, reason: 'timestamp_out_of_tolerance' });
    expect(verifyTourSignature(header, body, [SECRET], NOW - 301)).toEqual({ ok: false, reason: 'timestamp_out_of_tolerance' });
  });

  it('refuses a missing or malformed header, no secret, and any change to the body, time or signature', () => {
    const header = tourSignatureHeader(SECRET, NOW, body);
    expect(verifyTourSignature(undefined, body, [SECRET], NOW)).toEqual({ ok: false, reason: 'missing' });
    for (const bad of ['', 'v1=ab', `t=${NOW}`, `t=x,v1=${'a'.repeat(64)}`, `t=${NOW},v1=zz`, 'garbage']) {
      expect(verifyTourSignature(bad || 'x', body, [SECRET], NOW)).toEqual({ ok: false, reason: 'malformed' });
    }
    expect(verifyTourSignature(header, body, [], NOW)).toEqual({ ok: false, reason: 'no_secret' });
    expect(verifyTourSignature(header, Buffer.from(`${body.toString()} `), [SECRET], NOW)).toEqual({ ok: false, reason: 'mismatch' });
    expect(verifyTourSignature(header.replace(`t=${NOW}`, `t=${NOW + 1}`), body, [SECRET], NOW)).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('refuses the body with any one byte changed, dropped or added', () => {
    const header = tourSignatureHeader(SECRET, NOW, body);
    for (let i = 0; i < body.length; i++) {
      const flipped = Buffer.from(body);
      flipped[i] = flipped[i]! ^ 0x01;
      const dropped = Buffer.concat([body.subarray(0, i), body.subarray(i + 1)]);
      const added = Buffer.concat([body.subarray(0, i), Buffer.from(' '), body.subarray(i)]);
      for (const changed of [flipped, dropped, added]) expect(verifyTourSignature(header, changed, [SECRET], NOW)).toEqual({ ok: false, reason: 'mismatch' });
    }
  });
});

describe('echoed channel tokens', () => {
  it('match their stored hash only', () => {
    const hash = tokenHash('tok-1');
    expect(tokenMatches('tok-1', hash)).toBe(true);
    expect(tokenMatches('tok-2', hash)).toBe(false);
    expect(tokenMatches(undefined, hash)).toBe(false);
    expect(tokenMatches('x'.repeat(600), tokenHash('x'.repeat(600)))).toBe(false);
  });
});
