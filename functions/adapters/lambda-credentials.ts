/**
 * Lambda bundles replace the SDK's default credential chain with this module (an esbuild
 * alias set in infra/constructs/lambda-bundling.ts). Lambda always hands a function its
 * role's credentials in environment variables, so the chain's other links — SSO, profiles,
 * web identity, process, container metadata — are ~100 KB of code that can never run there.
 * Local tools keep the full chain.
 */
import { fromEnv } from '@aws-sdk/credential-provider-env';

export const defaultProvider = (init?: Parameters<typeof fromEnv>[0]) => fromEnv(init);
