/**
 * Names the deployed table and the runtime must agree on, in one module that both the CDK
 * stacks and the functions import (infra/local's table builder too), so that neither can
 * drift from the other. Nothing here may import anything: stacks, functions and local tools
 * all load it.
 */

/** The attribute DynamoDB's TTL reads (epoch seconds): idempotency records and other short-lived items. */
export const TTL_ATTRIBUTE = 'ttl';
