import fc from 'fast-check';
import { capBytes, capText, normalizeEmail, parsePhone, phoneText, smsInput } from '../../connectors/normalize';

describe('parsePhone', () => {
  it.each([
    ['+1 (415) 555-0123 ext. 1234', '+14155550123', '1234'],
    ['+1 415.555.0123 x77', '+14155550123', '77'],
    ['00 44 20 7946 0958', '+442079460958', undefined],
    ['+33 1 23 45 67 89', '+33123456789', undefined],
    ['  +81 3-1234-5678  ', '+81312345678', undefined],
  ])('%s -> %s (extension %s)', (raw, e164, ext) => {
    expect(parsePhone(raw)).toMatchObject({ e164, extension: ext });
  });

  it('needs a country for a national number and refuses what is not a phone', () => {
    expect(parsePhone('(415) 555-0123')).toBeUndefined();
    expect(parsePhone('(415) 555-0123', 'US')?.e164).toBe('+14155550123');
    expect(parsePhone('call me maybe')).toBeUndefined();
    expect(parsePhone('')).toBeUndefined();
  });

  it('always gives E.164 of at most 16 characters, whatever the formatting around the digits', () => {
    const separators = fc.constantFrom(' ', '-', '.', '(', ')', '');
    fc.assert(
      fc.property(fc.array(separators, { minLength: 10, maxLength: 10 }), fc.option(fc.integer({ min: 1, max: 99999 }), { nil: undefined }), (seps, ext) => {
        const digits = '4155550123';
        const typed = `+1 ${[...digits].map((d, i) => `${d}${seps[i]}`).join('')}${ext !== undefined ? ` ext. ${ext}` : ''}`;
        const parsed = parsePhone(typed);
        expect(parsed?.e164).toBe('+14155550123');
        expect(parsed!.e164.length).toBeLessThanOrEqual(16);
        expect(parsed?.extension).toBe(ext !== undefined ? String(ext) : undefined);
      }),
    );
  });
});

describe('capText and capBytes', () => {
  it('never exceed the limit and never leave half a surrogate pair, for any text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 400 }), fc.integer({ min: 1, max: 300 }), (text, max) => {
        const out = capText(text, max);
        expect(out.length).toBeLessThanOrEqual(max);
        expect(out).toBe(out.trim());
        expect(() => encodeURIComponent(out)).not.toThrow();
        const bytes = capBytes(text, max);
        expect(Buffer.byteLength(bytes, 'utf8')).toBeLessThanOrEqual(max);
        expect(() => encodeURIComponent(bytes)).not.toThrow();
      }),
    );
  });

  it('keeps text within the limit as it is (after trimming)', () => {
    expect(capText('  Анна-Мария  ', 48)).toBe('Анна-Мария');
    expect(capText('😀'.repeat(3), 5)).toBe('😀😀');
  });
});

describe('normalizeEmail', () => {
  it('gives one form for any casing and surrounding space', () => {
    fc.assert(
      fc.property(fc.emailAddress(), fc.boolean(), (email, upper) => {
        const typed = ` ${upper ? email.toUpperCase() : email} `;
        expect(normalizeEmail(typed)).toBe(normalizeEmail(email));
        expect(normalizeEmail(typed)).toBe(normalizeEmail(typed).toLowerCase());
      }),
    );
    expect(normalizeEmail('Ada@Example.com')).toBe('ada@example.com');
  });
});

describe('phoneText and smsInput', () => {
  it('writes an extension the way people read it, within the limit', () => {
    expect(phoneText('+1 (415) 555-0123 ext. 1234', 255)).toBe('+1 415 555 0123 ext. 1234');
    expect(phoneText('+1 (415) 555-0123 ext. 1234', 16)).toBe('+1 415 555 0123');
    expect(phoneText('ask the front desk', 255)).toBe('ask the front desk');
  });

  it('texts E.164 and refuses what cannot be texted, for good', () => {
    expect(smsInput('p', { to: '+1 (415) 555-0123 ext. 9', body: 'x'.repeat(2000) }, 1600)).toEqual({ to: '+14155550123', digits: '14155550123', body: 'x'.repeat(1600) });
    expect(() => smsInput('p', { to: 'n/a', body: 'x' }, 10)).toThrow(expect.objectContaining({ code: 'bad_request', retryable: false }));
  });
});
