import { z } from 'zod';
import { canonicalUuid } from '../shared';

export const PersonParams = z.strictObject({ userId: canonicalUuid() });
