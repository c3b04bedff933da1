// Composes Verbund's committed subgraph SDL (schema/schema.graphql) with the member CRM's
// subgraph into a supergraph, using Apollo's own composition library. Exits non-zero and
// prints the composition errors if the two do not compose.
import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';
import { readFileSync, writeFileSync } from 'node:fs';

const here = (p) => new URL(p, import.meta.url);
const verbundUrl = process.env.VERBUND_SUBGRAPH_URL ?? 'http://127.0.0.1:8080/graphql';
const crmUrl = process.env.CRM_SUBGRAPH_URL ?? 'http://127.0.0.1:4001/graphql';

const result = composeServices([
  { name: 'verbund', typeDefs: parse(readFileSync(here('../../schema/schema.graphql'), 'utf8')), url: verbundUrl },
  { name: 'member_crm', typeDefs: parse(readFileSync(here('./member-crm.graphql'), 'utf8')), url: crmUrl },
]);

if (result.errors && result.errors.length > 0) {
  console.error(`composition failed with ${result.errors.length} error(s):`);
  for (const e of result.errors) console.error(`- ${e.message}`);
  process.exit(1);
}
const out = process.argv[2] ?? here('./supergraph.graphql');
writeFileSync(out, result.supergraphSdl);
const organisation = result.schema.toAPISchema().toGraphQLJSSchema().getType('Organisation');
const fields = Object.keys(organisation.getFields());
for (const f of ['name', 'mentorshipCount', 'crmAccountManager', 'openVolunteerRequests']) {
  if (!fields.includes(f)) {
    console.error(`the composed Organisation lacks ${f}`);
    process.exit(1);
  }
}
console.log(`composed supergraph: Organisation has ${fields.length} fields from both subgraphs (written to ${out})`);
