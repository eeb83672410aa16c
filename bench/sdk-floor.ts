/**
 * The floor of `npm run bench`'s load times: only the two AWS SDK clients every function that
 * touches the table builds, built as rekey builds them. Bundled like the functions.
 */
import { createDynamoDbClient, createSecretsManagerClient } from '#adapters/aws-clients.ts';

export const clients = [createDynamoDbClient(), createSecretsManagerClient()];
