import { GraphQLScalarType, Kind } from 'graphql';

const passThrough = (name: string, description: string) =>
  new GraphQLScalarType({
    name,
    description,
    serialize: (v) => v,
    parseValue: (v) => v,
    parseLiteral: (ast) => (ast.kind === Kind.STRING ? ast.value : undefined),
  });

/** The contract's scalars. */
export const scalarResolvers = () => ({
  Cursor: passThrough('Cursor', 'Opaque position in the event log'),
  DateTime: passThrough('DateTime', 'ISO-8601 timestamp in UTC'),
  JSON: new GraphQLScalarType({ name: 'JSON', serialize: (v) => v, parseValue: (v) => v }),
});
