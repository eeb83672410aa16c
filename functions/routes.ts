/**
 * The route table: one row per operation, one Lambda function per row. The CDK API stack
 * and the local gateway are both built from it, so they cannot disagree.
 */
import type { DialectName } from '#dialects/dialect.ts';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RouteDefinition {
  /** The function's folder under `functions/` and its name's suffix. */
  operation: string;
  methods: readonly HttpMethod[];
  /** API Gateway path template. */
  path: string;
  dialect: DialectName;
  /** `admin`: a verified admin token is required before the function runs. */
  auth: 'admin' | 'public';
  /** Other methods on the path also reach the function, which answers 405 in its dialect. */
  answersOtherMethods: boolean;
  /** The seed this route implements. */
  seed: string;
}

export const ROUTES: readonly RouteDefinition[] = [
  {
    operation: 'create-or-reset-ui-password',
    methods: ['POST'],
    path: '/20160918/users/{userId}/uiPassword',
    dialect: 'oci',
    auth: 'admin',
    answersOtherMethods: false,
    seed: '000',
  },
  {
    operation: 'reset-random-password',
    methods: ['GET'],
    path: '/v2/{project_id}/users/{user_id}/random-password',
    dialect: 'huawei',
    auth: 'admin',
    // Other methods reach the function, which answers 405 in Huawei's body.
    answersOtherMethods: true,
    seed: '002',
  },
  {
    operation: 'reset-user-password',
    methods: ['POST'],
    path: '/cloudsso/2021-05-15/ResetUserPassword',
    dialect: 'alibaba',
    auth: 'admin',
    answersOtherMethods: false,
    seed: '003',
  },
  {
    operation: 'manage-ddm-admin',
    // The seed's URI says PUT, its own example POST: both are served.
    methods: ['PUT', 'POST'],
    path: '/v3/{project_id}/instances/{instance_id}/admin-user',
    dialect: 'huawei',
    auth: 'admin',
    answersOtherMethods: false,
    seed: '004',
  },
  {
    operation: 'change-password',
    methods: ['PUT'],
    path: '/20160918/changepassword',
    dialect: 'oci',
    // The caller proves the current password; no token.
    auth: 'public',
    answersOtherMethods: false,
    seed: '001',
  },
];

/** The handler module of a route, relative to the repository root. */
export function handlerEntry(route: RouteDefinition): string {
  return `functions/${route.operation}/handler.ts`;
}
