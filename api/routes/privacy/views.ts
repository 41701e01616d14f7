import { z } from 'zod';
import { uuid } from '../shared';

export const PersonParams = z.strictObject({ userId: uuid() });
