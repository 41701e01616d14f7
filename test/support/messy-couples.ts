import type { Person } from '../../connectors/contracts';

/**
 * Couples' details as people type them into a signup form, shared by every connector's table test
 * (test/connectors/messy-couples.test.ts) so each vendor's limits meet the same inputs: formatted phones
 * with extensions (with and without a country code), 300-character names, mixed-case and non-ASCII
 * emails, names in other scripts and emoji, stray white space and line breaks, and couples who left the
 * optional fields empty.
 */
export interface MessyCouple {
  label: string;
  person: Person;
}

const LONG_FIRST = 'Maximiliana-Josefina-'.repeat(15).slice(0, 300);
const LONG_LAST = `${'von Hohenzollern-Sigmaringen '.repeat(11)}`.slice(0, 300);

export const MESSY_COUPLES: readonly MessyCouple[] = [
  { label: 'US phone with "ext." and a mixed-case email', person: { email: 'Ada@Example.com', firstName: 'Ada', lastName: 'Lovelace', phone: '+1 (415) 555-0123 ext. 1234', externalId: 'user-ada', weddingDate: '2027-06-12' } },
  // Without a country code libphonenumber cannot place the number: it cannot be texted or sent as E.164.
  { label: 'UK national number with "x12" and no country code', person: { email: 'grace.hopper@example.co.uk', firstName: 'Grace', lastName: 'Hopper', phone: '(020) 7946 0958 x12', externalId: 'user-grace' } },
  { label: 'UK number with "#99"', person: { email: 'Alan.Turing@Example.co.uk', firstName: 'Alan', lastName: 'Turing', phone: '+44 20 7946 0958 #99', externalId: 'user-alan' } },
  { label: '300-character first and last names', person: { email: 'long.names@example.com', firstName: LONG_FIRST, lastName: LONG_LAST, phone: '+33 1 23 45 67 89', externalId: 'user-long' } },
  { label: '300 characters of emoji in a name (surrogate pairs)', person: { email: 'emoji@example.com', firstName: '😀'.repeat(150), lastName: '💍', phone: '+61 2 9374 4000', externalId: 'user-emoji' } },
  { label: 'a non-ASCII, upper-case email and Swedish names', person: { email: 'ÅSA@exämple.se', firstName: 'Åsa', lastName: 'Ödegård', phone: '+46 8 123 456 78', externalId: 'user-asa' } },
  { label: 'Chinese names', person: { email: 'li.na@example.cn', firstName: '娜', lastName: '李', phone: '+86 10 6552 9988', externalId: 'user-li' } },
  { label: 'Arabic names', person: { email: 'adam@example.ae', firstName: 'آدم', lastName: 'العربي', phone: '+971 4 123 4567', externalId: 'user-adam' } },
  { label: 'Cyrillic names', person: { email: 'Anna.Ivanova@Example.ru', firstName: 'Анна', lastName: 'Иванова', phone: '+7 495 123-45-67', externalId: 'user-anna' } },
  { label: 'an emoji in a name', person: { email: 'zoe@example.com', firstName: 'Zoë 🎉', lastName: 'Ng', phone: '+1 212 555 0199', externalId: 'user-zoe' } },
  { label: 'white space and a line break around the name and email', person: { email: '  Mary.Jane@Example.com ', firstName: ' Mary\nJane ', lastName: '  Watson\t', phone: ' +1 415 555 0100 ', externalId: 'user-mj' } },
  { label: 'no last name and no phone', person: { email: 'cher@example.com', firstName: 'Cher', externalId: 'user-cher' } },
  { label: 'only an email', person: { email: 'someone@example.com' } },
];
