#!/usr/bin/env node
'use strict';
// Runs the TypeScript sources through tsx when it is installed (a development checkout), and the
// compiled dist/ otherwise (the production image installs no dev dependencies).
const path = require('node:path');
let fromSource = true;
try {
  require.resolve('tsx/cjs');
} catch {
  fromSource = false;
}
if (fromSource) {
  require('tsx/cjs');
  require(path.join(__dirname, '..', 'cli', 'main.ts'));
} else {
  require(path.join(__dirname, '..', 'dist', 'cli', 'main.js'));
}
