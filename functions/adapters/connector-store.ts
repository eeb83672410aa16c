/**
 * Ticketing connectors in the table (`CONNECTOR#{id}`): id, kind, realm, reply URL. Their
 * secrets live in the vault (functions/ticketing/connectors.ts names them), never here.
 */
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { ConflictError } from '#core/errors.ts';
import { keys } from '#functions/contracts.ts';
import { CONNECTOR_KINDS, type Connector } from '#functions/ticketing/connectors.ts';
import { type DynamoDb, isConditionFailure } from './dynamodb-api.ts';
import { serviceFailure } from './service-errors.ts';

export class ConnectorStore {
  constructor(
    private readonly client: DynamoDb,
    private readonly tableName: string,
  ) {}

  /** The connector, or undefined when there is none by that id. */
  async get(connectorId: string): Promise<Connector | undefined> {
    let item: Record<string, unknown> | undefined;
    try {
      const out = await this.client.getItem({
        TableName: this.tableName,
        Key: marshall(keys.connector(connectorId)),
        ConsistentRead: true,
      });
      item = out.Item ? unmarshall(out.Item) : undefined;
    } catch (error) {
      throw serviceFailure('directory', error);
    }
    if (!item || !CONNECTOR_KINDS.includes(item.kind as never)) return undefined;
    return {
      connectorId: String(item.connectorId),
      kind: item.kind as Connector['kind'],
      realmId: String(item.realmId),
      replyUrl: String(item.replyUrl),
      ...(typeof item.table === 'string' ? { table: item.table } : {}),
      createdAt: String(item.createdAt),
    };
  }

  /** Creates a connector; a ConflictError when the id is taken. */
  async create(connector: Connector): Promise<void> {
    try {
      await this.client.putItem({
        TableName: this.tableName,
        Item: marshall({ ...keys.connector(connector.connectorId), ...connector }),
        ConditionExpression: 'attribute_not_exists(pk)',
      });
    } catch (error) {
      if (isConditionFailure(error)) {
        throw new ConflictError(`A connector with the id ${connector.connectorId} exists.`);
      }
      throw serviceFailure('directory', error);
    }
  }
}
