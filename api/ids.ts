import { z } from 'zod';

/**
 * The one schema for a UUID that arrives from outside: a path, query or body field of any endpoint
 * (api/routes/shared.ts), a token's `sub` and `org` (api/middleware/auth.ts), and the CLI's id
 * arguments. It accepts any case and yields lower case, so everything past the edge sees one spelling of
 * each id (domain/ids.ts says why that matters). Its JSON Schema is a plain `format: uuid` string.
 */
export const canonicalUuid = (message = 'must be a UUID') => z.uuid({ message }).toLowerCase();
