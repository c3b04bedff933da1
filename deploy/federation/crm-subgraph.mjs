// A stand-in for a member organisation's CRM: a real Apollo subgraph serving
// member-crm.graphql on CRM_PORT (default 4001).
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { readFileSync } from 'node:fs';

const typeDefs = parse(readFileSync(new URL('./member-crm.graphql', import.meta.url), 'utf8'));
const managers = ['Team Nord', 'Team Süd', 'Team Ost', 'Team West'];
const resolvers = {
  Query: { crmStatus: () => 'ok' },
  Organisation: {
    __resolveReference: (ref) => {
      const n = [...ref.id].reduce((a, c) => a + c.charCodeAt(0), 0);
      return { id: ref.id, crmAccountManager: managers[n % managers.length], openVolunteerRequests: n % 7 };
    },
  },
};
const server = new ApolloServer({ schema: buildSubgraphSchema([{ typeDefs, resolvers }]) });
const { url } = await startStandaloneServer(server, { listen: { host: process.env.CRM_HOST ?? '127.0.0.1', port: Number(process.env.CRM_PORT ?? 4001) } });
console.log(`crm subgraph at ${url}`);
