/**
 * The CDK app: `npx cdk synth` works offline, without credentials. Settings come from
 * context (`-c key=value` or cdk.json): jwtIssuer, jwtAudience (comma-separated), jwksUrl,
 * emailIdentity, emailSender.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { buildRekey } from './rekey-app.ts';

const app = new App();
buildRekey(app);
// cdk-nag gates every synth: an unacknowledged finding fails `cdk synth` and `cdk deploy`.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
app.synth();
