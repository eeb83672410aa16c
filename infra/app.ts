/**
 * The CDK app: `npx cdk synth` works offline, without credentials. Settings come from
 * context (`-c key=value` or cdk.json): jwtIssuer, jwtAudience (comma-separated), jwksUrl,
 * emailIdentity, emailSender.
 */
import { App } from 'aws-cdk-lib';
import { buildRekey } from './rekey-app.ts';

const app = new App();
buildRekey(app);
app.synth();
