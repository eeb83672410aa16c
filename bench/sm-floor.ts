/**
 * A floor of `npm run bench`'s load times: only the Secrets Manager client, built as rekey
 * builds it. The stack requires this client; every function that writes a secret loads it.
 */
import { createSecretsManagerClient } from '#adapters/aws-clients.ts';

export const client = createSecretsManagerClient();
