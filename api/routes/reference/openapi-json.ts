import { z } from 'zod';
import { endpoint } from '../../endpoint';

export const openapiJson = endpoint({
  operationId: 'getOpenApiDocument',
  method: 'get',
  path: '/api/openapi.json',
  tag: 'Reference',
  summary: 'This document: every route, its schemas and its error codes (OpenAPI 3.1)',
  access: 'public',
  responses: { 200: { description: 'The OpenAPI document', json: z.looseObject({ openapi: z.literal('3.1.0') }) } },
  errors: [],
}).handle(async (_input, ctx) => {
  return { status: 200, body: { ...ctx.openapi() } };
});
