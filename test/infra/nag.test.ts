import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { buildRekey } from '#infra/rekey-app.ts';
import { CDK_CONTEXT } from './cdk-context.ts';

/** The app as `cdk synth` builds it, with both cdk-nag packs as validation plugins. */
function nagApp(): App {
  const app = new App({
    outdir: mkdtempSync(join(tmpdir(), 'rekey-nag-')),
    // Bundling is irrelevant to the rules and slow: skip it here (stacks.test.ts bundles).
    context: { ...CDK_CONTEXT, 'aws:cdk:bundling-stacks': [] },
  });
  // With a connector of each kind: their connections, API destinations, rules and replies' queue.
  buildRekey(app, {
    connectors: [
      {
        id: 'zd',
        kind: 'zendesk',
        replyUrl: 'https://acme.zendesk.com',
        username: 'a@acme.example/token',
        passwordSecret: 'zd',
      },
      {
        id: 'jsm',
        kind: 'jira',
        replyUrl: 'https://acme.atlassian.net',
        username: 'a@acme.example',
        passwordSecret: 'jsm',
      },
      {
        id: 'snow',
        kind: 'servicenow',
        replyUrl: 'https://acme.service-now.com',
        username: 'rekey',
        passwordSecret: 'snow',
      },
    ],
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
  return app;
}

describe('cdk-nag (AwsSolutions and Serverless packs)', () => {
  // A full synth with both packs and three connectors: slow on a loaded machine.
  it('finds nothing unacknowledged in any rekey stack', { timeout: 120_000 }, () => {
    expect(() => nagApp().synth()).not.toThrow();
  });

  it('is really checking: an unencrypted, non-TLS queue added to the app fails synthesis', () => {
    const app = nagApp();
    new Queue(new Stack(app, 'Careless'), 'Plain', { encryption: QueueEncryption.UNENCRYPTED });
    expect(() => app.synth()).toThrow(/AwsSolutions-SQS/);
  });
});
