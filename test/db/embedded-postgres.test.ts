import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { letPostgresUserReach } from '../../db/embedded';

describe('embedded Postgres as root', () => {
  it('gives each private folder on the way to a target traverse permission for others, and says which', () => {
    const outer = fs.mkdtempSync(path.join(os.tmpdir(), 'tourhub-reach-')); // mkdtemp: mode 0700
    const inner = path.join(outer, 'clone', 'node_modules');
    fs.mkdirSync(inner, { recursive: true });
    fs.chmodSync(path.join(outer, 'clone'), 0o750);
    const lines: string[] = [];
    try {
      letPostgresUserReach([inner, path.join(outer, 'clone', '.tourhub', 'postgres')], (l) => lines.push(l));
      expect(fs.statSync(outer).mode & 0o777).toBe(0o701);
      expect(fs.statSync(path.join(outer, 'clone')).mode & 0o777).toBe(0o751);
      expect(lines).toEqual([
        expect.stringContaining(`added o+x to ${path.join(outer, 'clone')}`),
        expect.stringContaining(`added o+x to ${outer}`),
      ]);
      // Already reachable: nothing more to change or say.
      letPostgresUserReach([inner], (l) => lines.push(l));
      expect(lines).toHaveLength(2);
      // A target itself keeps its mode (Postgres refuses a data folder open to others).
      const data = path.join(outer, 'clone', 'data');
      fs.mkdirSync(data, { mode: 0o700 });
      letPostgresUserReach([data], (l) => lines.push(l));
      expect(fs.statSync(data).mode & 0o777).toBe(0o700);
    } finally {
      fs.rmSync(outer, { recursive: true, force: true });
    }
  });
});
