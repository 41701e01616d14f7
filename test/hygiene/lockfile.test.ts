import fs from 'node:fs';
import path from 'node:path';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { missingEntries } = require('../../.ci/complete-lockfile.js') as { missingEntries(lock: unknown): Record<string, unknown> };

describe('package-lock.json', () => {
  it('has an entry for every optional platform package, so `npm ci` accepts it', () => {
    const lock = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package-lock.json'), 'utf8'));
    const missing = Object.keys(missingEntries(lock));
    if (missing.length > 0) {
      throw new Error(`package-lock.json lacks ${missing.join(', ')}: run \`node .ci/complete-lockfile.js\` after npm install`);
    }
  });
});
