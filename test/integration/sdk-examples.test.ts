/**
 * The README's "From your vendor's SDK" snippets (examples/sdk/*.ts) run against the local
 * gateway, each printing what the README shows.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestApi, type TestApi } from '#test/support/test-api.ts';
import { main as alibaba } from '../../examples/sdk/alibaba.ts';
import { main as huawei } from '../../examples/sdk/huawei.ts';
import { main as oci } from '../../examples/sdk/oci.ts';

describe("the README's SDK snippets", () => {
  let t: TestApi;
  let token: string;

  beforeAll(async () => {
    t = await startTestApi();
    token = await t.token();
  });
  afterAll(() => t.close());

  /** What the example printed through `print`, and what else reached stdout or stderr meanwhile. */
  async function run(example: typeof oci): Promise<string[]> {
    const lines: string[] = [];
    const written: string[] = [];
    const spies = [process.stdout, process.stderr].map((stream) =>
      vi.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
        written.push(String(chunk));
        return true;
      }),
    );
    const warn = vi.spyOn(console, 'warn').mockImplementation((...args: unknown[]) => {
      written.push(args.join(' '));
    });
    try {
      await example(t.url, token, (line: string) => lines.push(line));
    } finally {
      for (const spy of [...spies, warn]) spy.mockRestore();
    }
    // Whatever the SDK logs on its own, the admin token is never in it.
    expect(written.join('\n')).not.toContain(token);
    sideOutput = written;
    return lines;
  }
  let sideOutput: string[] = [];

  it('examples/sdk/oci.ts: a reset, then a federated user refused with 409 Conflict', async () => {
    const [reset, requestId, refused] = await run(oci);
    expect(reset).toMatch(
      /^reset u-bob: ACTIVE, secret arn:aws:secretsmanager:\S+:secret:rekey\/temp\/demo\/u-bob\/\S+ until \S+Z$/,
    );
    expect(requestId).toMatch(/^opc-request-id [0-9A-F-]+\/[\w-]+$/);
    expect(refused).toMatch(/^refused: 409 Conflict: .*federated/i);
  });

  it('examples/sdk/alibaba.ts: a reset, then an unknown user refused with EntityNotExists.User', async () => {
    const [reset, requestId, refused] = await run(alibaba);
    expect(reset).toMatch(/^reset u-bob: secret arn:\S+:secret:rekey\/temp\/demo\/u-bob\/\S+ until \S+Z$/);
    const [, body, header] = /^RequestId (\S+) \(x-acs-request-id (\S+)\)$/.exec(requestId ?? '') ?? [];
    expect(body).toBeDefined();
    expect(header).toBe(body);
    expect(refused).toMatch(/^refused: EntityNotExists\.User: .+ \(RequestId [\w-]+\)$/);
  });

  it('examples/sdk/huawei.ts: a reset, then an unknown user refused with IAM.0004', async () => {
    const [reset, refused] = await run(huawei);
    expect(reset).toMatch(
      /^reset u-bob: 200, secret arn:\S+:secret:rekey\/temp\/demo\/u-bob\/\S+ until \S+Z$/,
    );
    expect(refused).toMatch(/^refused: 404 IAM\.0004: .+ \(request id [\w-]+\)$/);
    // The SDK core's own logger (category `nodesdk:…`) would print the failed request, headers
    // and all; the local gateway's log lines (same process here) are all that reach stdout.
    expect(sideOutput.join('')).not.toMatch(/nodesdk:|x-auth-token/i);
  });
});
