import crypto from 'node:crypto';
import type { Test } from 'supertest';
import request from 'supertest';
import type { Express } from 'express';
import { tourSignatureHeader } from '../../services/webhook-signatures';

/** Helpers for the webhook suites: seed 001 tour events, signed the way a sender would. */

export interface TourEventInput {
  orgId: string;
  userId: string;
  tourId: string;
  progressId?: string;
  type: string;
  eventId?: string;
  data?: Record<string, unknown>;
}

export function tourEvent(e: TourEventInput): Record<string, unknown> {
  return {
    event_type: e.type,
    event_id: e.eventId ?? `evt_${crypto.randomUUID()}`,
    timestamp: new Date().toISOString(),
    user_id: e.userId,
    organization_id: e.orgId,
    tour_id: e.tourId,
    progress_id: e.progressId ?? crypto.randomUUID(),
    ...(e.data ? { data: e.data } : {}),
  };
}

/** POSTs `body` (an object, or the exact bytes) signed with `secret` at `atSeconds` (default now). */
export function postTourEvent(app: Express, secret: string | undefined, body: Record<string, unknown> | string, opts: { atSeconds?: number; signedBody?: string; header?: string } = {}): Test {
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  const t = opts.atSeconds ?? Math.floor(Date.now() / 1000);
  const req = request(app).post('/api/webhooks/tour-events').set('Content-Type', 'application/json');
  const signature = opts.header ?? (secret ? tourSignatureHeader(secret, t, opts.signedBody ?? raw) : undefined);
  if (signature) req.set('x-wedsync-signature', signature);
  return req.send(raw);
}
