/**
 * The partition keys a function may write, as IAM `StringLike` patterns for
 * `dynamodb:LeadingKeys`: the contract lives in functions/contracts.ts (WRITABLE_PARTITIONS),
 * next to the key functions it is built from, so the route table's access rows can name it too.
 */
export { WRITABLE_PARTITIONS as WRITABLE } from '../../functions/contracts.ts';
