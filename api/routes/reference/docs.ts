import path from 'node:path';
import { z } from 'zod';
import { endpoint } from '../../endpoint';

/** Swagger UI's files come from the swagger-ui-dist package: the page loads nothing from another host. */
const SWAGGER_UI = path.dirname(require.resolve('swagger-ui-dist/package.json'));
const ASSETS = { 'swagger-ui.css': 'text/css', 'swagger-ui-bundle.js': 'text/javascript', 'favicon-32x32.png': 'image/png', 'init.js': 'text/javascript' } as const;
const ASSET_NAMES = Object.keys(ASSETS) as (keyof typeof ASSETS)[];

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>tourhub API reference</title>
  <link rel="icon" type="image/png" href="/api/docs/assets/favicon-32x32.png">
  <link rel="stylesheet" href="/api/docs/assets/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/api/docs/assets/swagger-ui-bundle.js"></script>
  <script src="/api/docs/assets/init.js"></script>
</body>
</html>
`;

// A file rather than an inline script, so a Content-Security-Policy of 'self' keeps the page working.
// validatorUrl null: Swagger UI would otherwise send the document to a public validator.
const INIT = `window.ui = SwaggerUIBundle({
  url: '/api/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  validatorUrl: null,
});
`;

export const docsPage = endpoint({
  operationId: 'getApiReference',
  method: 'get',
  path: '/api/docs',
  tag: 'Reference',
  summary: 'This document as a page to browse and try (Swagger UI)',
  access: 'public',
  responses: { 200: { description: 'The page', content: ['text/html'] } },
  errors: [],
}).handle(async () => {
  return { status: 200, text: PAGE, type: 'html' };
});

export const docsAsset = endpoint({
  operationId: 'getApiReferenceAsset',
  method: 'get',
  path: '/api/docs/assets/{file}',
  tag: 'Reference',
  summary: "The reference page's script, stylesheet and icon",
  access: 'public',
  params: z.strictObject({ file: z.enum(ASSET_NAMES) }),
  responses: { 200: { description: 'The file', content: ['text/css', 'text/javascript', 'image/png'] } },
  errors: [],
}).handle(async ({ params }) => {
  if (params.file === 'init.js') return { status: 200, text: INIT, type: ASSETS[params.file] };
  return { status: 200, file: path.join(SWAGGER_UI, params.file) };
});
