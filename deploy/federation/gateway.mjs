// A real Apollo federation gateway over the supergraph composed by compose.mjs, on
// GATEWAY_PORT (default 4000). It forwards the caller's Authorization header to Verbund.
import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { readFileSync } from 'node:fs';

const supergraphSdl = readFileSync(process.argv[2] ?? new URL('./supergraph.graphql', import.meta.url), 'utf8');
const gateway = new ApolloGateway({
  supergraphSdl,
  buildService: ({ url }) =>
    new RemoteGraphQLDataSource({
      url,
      willSendRequest({ request, context }) {
        if (context.authorization) request.http.headers.set('authorization', context.authorization);
      },
    }),
});
const server = new ApolloServer({ gateway });
const { url } = await startStandaloneServer(server, {
  listen: { host: process.env.GATEWAY_HOST ?? '127.0.0.1', port: Number(process.env.GATEWAY_PORT ?? 4000) },
  context: async ({ req }) => ({ authorization: req.headers.authorization }),
});
console.log(`gateway at ${url}`);
