/**
 * The Lambda authorizer of every admin route. Callers send the token in `Authorization:
 * Bearer`, as Huawei's APIs expect in `X-Auth-Token`, or as Alibaba's SDKs send it in
 * `x-acs-bearer-token` — three places, which API Gateway's JWT authorizer cannot read (it
 * takes exactly one identity source).
 *
 * It verifies the token like a JWT authorizer would (signature against the issuer's JWKS,
 * issuer, audience, expiry) and more strictly (each key its one algorithm, a lifetime of at
 * most 24 hours, no post-dated `iat`: see `authorizer.ts`), and hands the route the verified
 * claims. It never answers a request itself: an unauthenticated request reaches the function
 * with `authenticated: false` and nothing else, and the function refuses it with a 401 in its
 * own dialect (OCI `{code, message}`, Huawei `{error_code, error_msg}`, Alibaba `{RequestId,
 * Code, Message}`), which API Gateway's fixed `{"message":"Unauthorized"}` would not be.
 */
import { createHandler } from './authorizer.ts';
import { jwksVerifier } from './verifier.ts';

export const handler = createHandler(jwksVerifier());
