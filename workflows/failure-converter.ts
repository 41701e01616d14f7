import { DefaultFailureConverter } from '@temporalio/common';

/**
 * Failure messages and stack traces are plain text in a workflow's history unless they are moved into a
 * payload, which the payload codec then encrypts (services/payload-codec.ts). A provider's error can quote
 * what it was sent (Mailchimp answers "jane@example.com is already a list member"), so every failure goes
 * this way. It runs on both sides: bundled into the workflow sandbox (failureConverterPath) for what
 * workflows raise, and in the worker and client processes for activities and results. A failure recorded
 * before this was set still reads: decoding takes plain messages as they are.
 */
export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
