import {
  GraphQLError,
  Kind,
  getNamedType,
  getNullableType,
  getVariableValues,
  isListType,
  visit,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  type SelectionSetNode,
  type ValidationRule,
  type ValueNode,
  type VariableDefinitionNode,
} from 'graphql';
import { createComplexityRule, getComplexity, simpleEstimator, type ComplexityEstimator } from 'graphql-query-complexity';

/** Deep enough for the introspection query, shallow enough to stop abusive nesting (HTTP; the schema has no cycles besides introspection). */
export const MAX_DEPTH = 16;
/** How deeply the document's operations nest fields (a root field is 1; fragments are followed, each once per path). */
export function depthOf(document: DocumentNode): number {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const depth = (set: SelectionSetNode | undefined, path: ReadonlySet<string>): number => {
    let max = 0;
    for (const selection of set?.selections ?? []) {
      if (selection.kind === Kind.FIELD) max = Math.max(max, 1 + depth(selection.selectionSet, path));
      else if (selection.kind === Kind.INLINE_FRAGMENT) max = Math.max(max, depth(selection.selectionSet, path));
      else if (!path.has(selection.name.value)) max = Math.max(max, depth(fragments.get(selection.name.value)?.selectionSet, new Set([...path, selection.name.value])));
    }
    return max;
  };
  let max = 0;
  for (const d of document.definitions) if (d.kind === Kind.OPERATION_DEFINITION) max = Math.max(max, depth(d.selectionSet, new Set()));
  return max;
}

/**
 * What one operation may cost: a field costs 1, a page or list multiplies what it selects by
 * its size. An inbox of 100 conversations with their members' presence fits (~40,000); 100
 * conversations with 200 messages each does not (~160,000).
 */
export const MAX_COMPLEXITY = 50_000;
/** Size assumed for a paged field without first/last (the contract's defaults are 20 and 50). */
const DEFAULT_PAGE = 50;
/** Size assumed for a list without paging (members of a group). */
const UNPAGED_LIST = 100;

/**
 * The only arguments the estimators read (`args.<name>`): a document whose variables feed none
 * of them (nor a directive) has one cost. An estimator reading another argument must add it here.
 */
const COST_ARGUMENTS: ReadonlySet<string> = new Set(['first', 'last', 'userIds']);

const byPageOrList: ComplexityEstimator = ({ type, field, args, childComplexity }) => {
  // A connection's edges are its page: the paged field above them already multiplied.
  if (childComplexity === 0 || type.name.endsWith('Connection')) return undefined;
  const requested = [args.first, args.last].find((n): n is number => typeof n === 'number');
  if (requested !== undefined) return 1 + childComplexity * requested;
  if (Array.isArray(args.userIds)) return 1 + childComplexity * args.userIds.length;
  if (field.args.some((a) => a.name === 'first')) return 1 + childComplexity * DEFAULT_PAGE;
  if (isListType(getNullableType(field.type)) && !getNamedType(field.type).name.startsWith('__')) return 1 + childComplexity * UNPAGED_LIST;
  return undefined;
};

const ESTIMATORS = [byPageOrList, simpleEstimator({ defaultComplexity: 1 })];
const tooComplex = (max: number, actual: number) =>
  new GraphQLError(`The operation is too complex (cost ${actual}, at most ${max}): ask for smaller pages or fewer nested lists`, {
    extensions: { code: 'BAD_USER_INPUT' },
  });

/** The complexity rule for one request (the variables decide page sizes). */
export function complexityRule(variables: Record<string, unknown> | undefined, operationName?: string): ValidationRule {
  return createComplexityRule({ maximumComplexity: MAX_COMPLEXITY, variables: variables ?? {}, operationName, estimators: ESTIMATORS, createError: tooComplex });
}

/** The same limit after validation (Mercurius keeps validated documents cached, so it checks here, before execution). */
export function assertNotTooComplex(schema: GraphQLSchema, query: DocumentNode, variables: Record<string, unknown> | undefined): void {
  const cost = complexityOf(schema, query, variables ?? {});
  if (cost > MAX_COMPLEXITY) throw tooComplex(MAX_COMPLEXITY, cost);
}

/** What the cost of a document depends on, worked out once per document object. */
interface DocumentCost {
  readonly schema: GraphQLSchema;
  /** The variable definitions of each operation (getComplexity sums every operation of the document). */
  readonly operations: ReadonlyArray<readonly VariableDefinitionNode[]>;
  /** Whether a variable feeds a cost argument of a field or a directive (@skip/@include): then the cost varies. */
  readonly varies: boolean;
  cost?: number;
}

/** Mercurius hands the same DocumentNode for the same query text (its LRU), so costs are cached per document object. */
const documents = new WeakMap<DocumentNode, DocumentCost>();

function documentCost(schema: GraphQLSchema, query: DocumentNode): DocumentCost {
  const known = documents.get(query);
  if (known && known.schema === schema) return known;
  const operations = query.definitions.flatMap((d) => (d.kind === Kind.OPERATION_DEFINITION ? [d.variableDefinitions ?? []] : []));
  let varies = false;
  const feedsCost = (value: ValueNode) => visit(value, { Variable: () => void (varies = true) });
  visit(query, {
    Field: (node) => node.arguments?.filter((a) => COST_ARGUMENTS.has(a.name.value)).forEach((a) => feedsCost(a.value)),
    Directive: (node) => node.arguments?.forEach((a) => feedsCost(a.value)),
  });
  const entry: DocumentCost = { schema, operations, varies };
  documents.set(query, entry);
  return entry;
}

/**
 * getComplexity's answer, computed once per document when no variable can change it (e.g.
 * every sendMessage). Variables that do not coerce still make getComplexity throw, as before.
 */
export function complexityOf(schema: GraphQLSchema, query: DocumentNode, variables: Record<string, unknown>): number {
  const document = documentCost(schema, query);
  const compute = () => getComplexity({ schema, query, variables, estimators: ESTIMATORS });
  if (document.varies) return compute();
  if (document.operations.some((definitions) => definitions.length > 0 && getVariableValues(schema, definitions, variables).errors)) return compute();
  return (document.cost ??= compute());
}
