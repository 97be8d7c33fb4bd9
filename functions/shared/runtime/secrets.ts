import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

/** The Secrets Manager client (the authorizer's alone), once per execution environment. */
export const secrets = new SecretsManagerClient({});
