#!/usr/bin/env node
'use strict';
/**
 * npm leaves out the lockfile entries of optional platform packages it cannot fetch, and this
 * machine's registry mirror serves only Linux x64 builds of @swc/core. `npm ci` then refuses the
 * lockfile ("Missing: @swc/core-darwin-arm64@ from lock file"). This adds the missing entries with
 * their os/cpu, so npm ci sees they do not apply here and skips them. Run it after `npm install`:
 *   node .ci/complete-lockfile.js
 */
const fs = require('node:fs');
const path = require('node:path');

const PLATFORM = /-(darwin|linux|win32|freebsd|android)-(arm64|x64|ia32|arm|ppc64|s390x|riscv64)(-(gnu|musl|gnueabihf|msvc))?$/;

function missingEntries(lock) {
  const packages = lock.packages;
  const added = {};
  for (const [dir, entry] of Object.entries(packages)) {
    for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
      const key = `node_modules/${name}`;
      if (packages[key] || added[key]) continue;
      const m = PLATFORM.exec(name);
      if (!m) continue;
      const [, os, cpu, , libc] = m;
      added[key] = {
        version,
        cpu: [cpu],
        ...(libc === 'gnu' ? { libc: ['glibc'] } : libc === 'musl' ? { libc: ['musl'] } : {}),
        optional: true,
        os: [os],
        ...(packages[dir]?.license ? { license: packages[dir].license } : {}),
      };
    }
  }
  return added;
}

module.exports = { missingEntries };

if (require.main === module) {
  const file = path.join(__dirname, '..', 'package-lock.json');
  const lock = JSON.parse(fs.readFileSync(file, 'utf8'));
  const added = missingEntries(lock);
  const sorted = {};
  const merged = { ...lock.packages, ...added };
  for (const k of Object.keys(merged).sort((a, b) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b)))) sorted[k] = merged[k];
  lock.packages = sorted;
  fs.writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
  process.stdout.write(`added ${Object.keys(added).length} lockfile entries\n`);
}
