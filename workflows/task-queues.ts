/** Each provider's calls run on their own task queue, whose rate the server enforces (see worker.ts). */
export function providerTaskQueue(providerId: string): string {
  return `provider-${providerId}`;
}
