import {
  createSourceEventStream,
  getOperationAST,
  parse,
  specifiedRules,
  validate,
  GraphQLError,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type GraphQLSchema,
} from 'graphql';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';
import { mapIterator } from '../live/live-updates';
import { complexityRule, depthOf, MAX_DEPTH } from './complexity';

interface Prepared {
  readonly document?: DocumentNode;
  readonly errors: readonly GraphQLError[];
  readonly compiled: Map<string, CompiledQuery>;
}

/**
 * Subscription fields whose payload object is shared by every subscriber of the same key (one
 * conversation's messages, presence changes) and whose selections read nothing but that
 * payload (no viewer, no context): executing one selection once per payload serves them all.
 */
const SHARED_PAYLOAD_FIELDS = new Set(['messageSent', 'presenceChanged']);
const MAX_DOCUMENTS = 1_000;

/**
 * The graphql-ws edge: a document is parsed, validated and compiled (graphql-jit) once per
 * query text, not per subscribe or per event; complexity is checked per request (variables
 * set page sizes); and an event's result is computed once per (payload, document, variables)
 * and shared by every subscriber with that selection.
 */
export class Operations {
  private readonly documents = new Map<string, Prepared>();
  private readonly results = new WeakMap<object, Map<string, Promise<ExecutionResult> | ExecutionResult>>();
  private readonly sources = new WeakMap<DocumentNode, string>();

  constructor(private readonly schema: GraphQLSchema) {}

  /** Parsed and validated once per query text (bounded; the oldest is forgotten first). */
  prepare(query: string): Prepared {
    let prepared = this.documents.get(query);
    if (prepared) return prepared;
    try {
      const document = parse(query);
      const errors = [...validate(this.schema, document, specifiedRules)];
      const depth = errors.length === 0 ? depthOf(document) : 0;
      if (depth > MAX_DEPTH) errors.push(new GraphQLError(`The query nests ${depth} levels deep; at most ${MAX_DEPTH} are allowed`));
      prepared = { document, errors, compiled: new Map() };
      this.sources.set(document, query);
    } catch (err) {
      prepared = { errors: [err instanceof GraphQLError ? err : new GraphQLError(String(err))], compiled: new Map() };
    }
    if (this.documents.size >= MAX_DOCUMENTS) this.documents.delete(this.documents.keys().next().value!);
    this.documents.set(query, prepared);
    return prepared;
  }

  /** Errors for this request (syntax, validation, depth, complexity), or none: the client's, so BAD_USER_INPUT as over HTTP. */
  check(query: string, variables: Record<string, unknown> | undefined, operationName: string | undefined): readonly GraphQLError[] {
    const prepared = this.prepare(query);
    const errors = prepared.errors.length > 0 ? prepared.errors : validate(this.schema, prepared.document!, [complexityRule(variables, operationName)]);
    return errors.map((e) => (e.extensions.code ? e : new GraphQLError(e.message, { nodes: e.nodes, extensions: { ...e.extensions, code: 'BAD_USER_INPUT' } })));
  }

  private compiled(args: ExecutionArgs): CompiledQuery | ExecutionResult {
    const source = this.sources.get(args.document);
    const prepared = source === undefined ? undefined : this.documents.get(source);
    const name = args.operationName ?? '';
    const cached = prepared?.compiled.get(name);
    if (cached) return cached;
    const compiled = compileQuery(this.schema, args.document, args.operationName ?? undefined);
    if (isCompiledQuery(compiled)) prepared?.compiled.set(name, compiled);
    return compiled;
  }

  execute = (args: ExecutionArgs): Promise<ExecutionResult> | ExecutionResult => {
    const compiled = this.compiled(args);
    return isCompiledQuery(compiled) ? compiled.query(args.rootValue, args.contextValue, args.variableValues) : compiled;
  };

  subscribe = async (args: ExecutionArgs): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> => {
    const compiled = this.compiled(args);
    if (!isCompiledQuery(compiled)) return compiled;
    const stream = await createSourceEventStream(args);
    if (!(Symbol.asyncIterator in stream)) return stream;
    const field = getOperationAST(args.document, args.operationName)?.selectionSet.selections.find((s) => s.kind === 'Field');
    const shared = field?.kind === 'Field' && SHARED_PAYLOAD_FIELDS.has(field.name.value);
    const key = `${args.operationName ?? ''}\n${JSON.stringify(args.variableValues ?? {})}`;
    const run = (payload: unknown) => compiled.query(payload, args.contextValue, args.variableValues);
    return mapIterator(stream[Symbol.asyncIterator](), (payload) => (shared && typeof payload === 'object' && payload !== null ? this.once(payload, key, compiled, run) : run(payload)));
  };

  private once(payload: object, key: string, compiled: CompiledQuery, run: (payload: unknown) => Promise<ExecutionResult> | ExecutionResult) {
    let byOperation = this.results.get(payload);
    if (!byOperation) this.results.set(payload, (byOperation = new Map()));
    // One compiled query per document: the key needs only the operation and variables besides it.
    const id = `${this.idOf(compiled)}\n${key}`;
    let result = byOperation.get(id);
    if (!result) byOperation.set(id, (result = run(payload)));
    return result;
  }

  private readonly ids = new WeakMap<CompiledQuery, number>();
  private nextId = 0;
  private idOf(compiled: CompiledQuery): number {
    let id = this.ids.get(compiled);
    if (id === undefined) this.ids.set(compiled, (id = this.nextId++));
    return id;
  }
}
